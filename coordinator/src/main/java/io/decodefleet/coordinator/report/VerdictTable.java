package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.report.MetricVerdict.Verdict;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The printable verdict table: one row per expectation with the expected and actual values, the
 * relative change, which way is better, the tolerance and the verdict, then a count per verdict.
 */
public final class VerdictTable {

  private static final String FORMAT = "%10s  %-24s %14s %14s %9s  %-6s %6s  %s";

  private VerdictTable() {}

  /** The table, each line ending in '\n'. */
  public static String render(List<MetricVerdict> verdicts) {
    StringBuilder out = new StringBuilder();
    line(out, String.format(Locale.ROOT, FORMAT, "World size", "Metric", "Expected", "Actual",
        "Change", "Better", "Tol.", "Verdict"));
    Map<Verdict, Integer> counts = new EnumMap<>(Verdict.class);
    for (MetricVerdict v : verdicts) {
      counts.merge(v.verdict(), 1, Integer::sum);
      line(out, String.format(Locale.ROOT, FORMAT,
          v.worldSize(), v.metric(), value(v.expected()), value(v.actual()),
          change(v.relativeChange()), v.direction().jsonName(),
          String.format(Locale.ROOT, "%.0f%%", v.tolerance() * 100), v.verdict()));
    }
    StringBuilder summary = new StringBuilder();
    for (Verdict verdict : Verdict.values()) {
      if (summary.length() > 0) {
        summary.append(", ");
      }
      summary.append(counts.getOrDefault(verdict, 0)).append(' ')
          .append(verdict.name().toLowerCase(Locale.ROOT));
    }
    line(out, summary.toString());
    return out.toString();
  }

  /** Two decimals, or three significant digits below 1 (scaling efficiency, short TPOTs). */
  static String value(double value) {
    if (!Double.isFinite(value)) {
      return "n/a";
    }
    return Math.abs(value) >= 1 || value == 0
        ? String.format(Locale.ROOT, "%.2f", value)
        : String.format(Locale.ROOT, "%.3g", value);
  }

  private static String change(double relative) {
    return Double.isFinite(relative)
        ? String.format(Locale.ROOT, "%+.1f%%", relative * 100)
        : "n/a";
  }

  private static void line(StringBuilder out, String text) {
    out.append(text.stripTrailing()).append('\n');
  }
}
