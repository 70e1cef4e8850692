package io.decodefleet.coordinator.metrics;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * What a sweep varies from point to point, the rest of the workload (and its seed) staying the same:
 * the world size of an in-process fleet, or, against an OpenAI endpoint, the request rate or the
 * maximum concurrency. Scaling efficiency only means something on the world-size axis.
 *
 * <p>Values are doubles so that one type carries all three; world sizes and concurrencies are whole
 * numbers, and an infinite request rate (all at once) or concurrency (no limit) is
 * {@link Double#POSITIVE_INFINITY}, written "inf" in every file.
 */
public enum SweepAxis {
  WORLD_SIZE("world_size", "World size", "world size", "World size (GPUs)", false, false),
  REQUEST_RATE("request_rate", "Request rate", "request rate", "Request rate (req/s)", true, true),
  MAX_CONCURRENCY("max_concurrency", "Max concurrency", "max concurrency", "Max concurrency (requests)", false, true);

  private final String key;
  private final String label;
  private final String noun;
  private final String axisTitle;
  private final boolean fractional;
  private final boolean infinite;

  SweepAxis(String key, String label, String noun, String axisTitle, boolean fractional, boolean infinite) {
    this.key = key;
    this.label = label;
    this.noun = noun;
    this.axisTitle = axisTitle;
    this.fractional = fractional;
    this.infinite = infinite;
  }

  /** The point's key in report.json and the first column of the CSV files, e.g. "request_rate". */
  public String key() {
    return key;
  }

  /** Capitalised, for table headers: "World size". */
  public String label() {
    return label;
  }

  /** In running text: "world size". */
  public String noun() {
    return noun;
  }

  /** A chart's axis title, with the unit: "Request rate (req/s)". */
  public String axisTitle() {
    return axisTitle;
  }

  /**
   * Why {@code value} is not a point on this axis, or null when it is: world sizes are whole numbers
   * from 1, request rates positive (inf: all at once), concurrencies whole numbers from 1 (inf: no
   * limit).
   */
  public String invalid(double value) {
    if (Double.isNaN(value)) return noun + " is NaN";
    if (Double.isInfinite(value)) return infinite && value > 0 ? null : noun + " must be finite, got " + value;
    if (fractional) return value > 0 ? null : noun + " must be > 0, got " + format(value);
    if (value != Math.rint(value)) return noun + " must be a whole number, got " + value;
    return value >= 1 ? null : noun + " must be >= 1, got " + format(value);
  }

  /** "inf", a whole number without decimals ("8"), or the shortest decimal that reads back ("2.5"). */
  public String format(double value) {
    if (Double.isInfinite(value)) return value > 0 ? "inf" : "-inf";
    if (Double.isNaN(value)) return "NaN";
    if (!fractional || value == Math.rint(value) && Math.abs(value) < 1e15) {
      return String.format(Locale.ROOT, "%d", (long) value);
    }
    return BigDecimal.valueOf(value).toPlainString();
  }
}
