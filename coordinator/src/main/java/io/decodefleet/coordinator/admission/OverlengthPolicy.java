package io.decodefleet.coordinator.admission;

import java.util.Locale;

/**
 * What a benchmark does with a request over its {@link LengthLimit} that it could not rule out up
 * front (a trace row, a draw from an unbounded length distribution, a conversation's turn): refuse the
 * whole workload naming the request, or leave the request out and count it. A request is never cut to
 * fit.
 */
public enum OverlengthPolicy {
  /** The workload is refused, naming the first request over the limit. */
  ERROR,
  /** The request is left out (a conversation's later turns with it) and counted in the report. */
  SKIP;

  /** The accepted words, for help and error messages. */
  public static final String FORMS = "skip or error";

  /** "skip" or "error", in any case. */
  public static OverlengthPolicy parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "skip" -> SKIP;
      case "error" -> ERROR;
      default -> throw new IllegalArgumentException("must be " + FORMS + ", got '" + text + "'");
    };
  }

  /** As the command line and report.json spell it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
