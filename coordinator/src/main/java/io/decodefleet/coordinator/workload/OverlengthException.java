package io.decodefleet.coordinator.workload;

import java.nio.file.Path;

/**
 * A workload with a request over its {@link io.decodefleet.coordinator.admission.LengthLimit}. The
 * message is one line naming the request where there is one ("request 17: ...", "trace.jsonl:9: ...")
 * and the limit; {@link #setting} says which setting of the workload drove it over, for the caller to
 * name as its user spells it (a command-line flag, an API field).
 */
public final class OverlengthException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The workload setting a refusal is about. */
  public enum Setting { PROMPT_LEN, OUTPUT_LEN, PREFIX_LEN, TURNS, TRACE }

  private final Setting setting;
  private final boolean perRequest;
  private final int line;
  private final String problem;

  /**
   * @param perRequest true when it is about one request drawn (leaving such requests out is an
   *     option); false when a distribution's longest draw was checked up front
   */
  OverlengthException(Setting setting, String message, boolean perRequest) {
    super(message);
    this.setting = setting;
    this.perRequest = perRequest;
    this.line = 0;
    this.problem = message;
  }

  /** A trace's row: {@code <file>:<line>: <problem>}, lines counted from 1. */
  OverlengthException(Path file, int line, String problem) {
    super(file + ":" + line + ": " + problem);
    this.setting = Setting.TRACE;
    this.perRequest = true;
    this.line = line;
    this.problem = problem;
  }

  public Setting setting() {
    return setting;
  }

  /** Whether leaving over-length requests out would have let the workload run. */
  public boolean perRequest() {
    return perRequest;
  }

  /** A trace row's line, from 1; 0 for a generated workload. */
  public int line() {
    return line;
  }

  /** What is over the limit, without the file and line. */
  public String problem() {
    return problem;
  }
}
