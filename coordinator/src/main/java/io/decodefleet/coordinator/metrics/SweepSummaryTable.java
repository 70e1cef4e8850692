package io.decodefleet.coordinator.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The compact sweep summary behind {@link ConsoleTable#renderSweep}: one row per point of the
 * sweep's axis, so scaling (or saturation) reads top to bottom. Columns are right-aligned; latencies
 * are in milliseconds. A world-size sweep also has the scaling efficiency: output tokens/s per GPU
 * relative to the sweep's base world size, in percent.
 */
final class SweepSummaryTable {

  /** Narrowest column but the first, characters; wide enough for "123456.78". */
  private static final int MIN_COLUMN = 9;

  /** Spaces at least between a column's header and the one before it. */
  private static final int GAP = 2;

  private SweepSummaryTable() {}

  static String render(SweepReport report) {
    boolean goodput = report.goodput() != null;
    SweepAxis axis = report.axis();
    boolean scaling = axis == SweepAxis.WORLD_SIZE;
    List<String> header = new ArrayList<>(List.of(axis.label(), "Req/s"));
    if (goodput) {
      header.add("Good req/s");
    }
    header.add("Output tok/s");
    if (scaling) {
      header.add("Scaling");
    }
    header.addAll(List.of("TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99"));
    int[] widths = new int[header.size()];
    widths[0] = axis.label().length();
    int width = widths[0];
    for (int i = 1; i < widths.length; i++) {
      widths[i] = Math.max(MIN_COLUMN, header.get(i).length() + GAP);
      width += widths[i];
    }

    StringBuilder out = new StringBuilder();
    out.append(ConsoleTable.centered(" Sweep Summary ", '=', width)).append('\n');
    out.append(columns(header, widths)).append('\n');
    for (SweepPoint point : report.points()) {
      BenchmarkResult r = point.result();
      List<String> row = new ArrayList<>();
      row.add(axis.format(point.axisValue()));
      row.add(ConsoleTable.decimal(r.requestThroughput()));
      if (goodput) {
        row.add(ConsoleTable.decimal(r.requestGoodput()));
      }
      row.add(ConsoleTable.decimal(r.outputTokenThroughput()));
      if (scaling) {
        row.add(percent(point.scalingEfficiency()));
      }
      row.add(ConsoleTable.decimal(r.ttftMs().median()));
      row.add(ConsoleTable.decimal(r.ttftMs().p99()));
      row.add(ConsoleTable.decimal(r.tpotMs().median()));
      row.add(ConsoleTable.decimal(r.tpotMs().p99()));
      out.append(columns(row, widths)).append('\n');
    }
    out.append("-".repeat(width)).append('\n');
    out.append("Latencies in ms.");
    if (scaling) {
      out.append(" Scaling: output tok/s per GPU vs world size ").append(report.baseWorldSize()).append('.');
    }
    out.append('\n');
    out.append("=".repeat(width)).append('\n');
    return out.toString();
  }

  /** Cells right-aligned in their columns; a value wider than its column pushes the rest right. */
  private static String columns(List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      line.append(" ".repeat(Math.max(i == 0 ? 0 : 1, widths[i] - cell.length()))).append(cell);
    }
    return line.toString();
  }

  /** "87.5%"; "n/a" when the efficiency could not be computed. */
  static String percent(double fraction) {
    return Double.isFinite(fraction)
        ? String.format(Locale.ROOT, "%.1f%%", fraction * 100)
        : "n/a";
  }
}
