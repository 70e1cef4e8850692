package io.decodefleet.coordinator.report;

import io.decodefleet.coordinator.metrics.LatencyStats;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.ChartEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.Styler.YAxisPosition;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The sweep's PNG charts, drawn with XChart without a display. Every chart is {@link #WIDTH} ×
 * {@link #HEIGHT} pixels, has a title, axis titles with units and a legend.
 *
 * <p>Charts against the sweep's axis (world size, request rate or max concurrency) put its values
 * at equal steps in sweep order (1, 2, 4, 8 read like a log scale; "inf" has a place of its own),
 * each labelled with its value, so every tick is a point that was run.
 */
public final class SweepCharts {

  /** Width of every chart, pixels. */
  public static final int WIDTH = 1000;

  /** Height of every chart, pixels. */
  public static final int HEIGHT = 600;

  static final String THROUGHPUT = "throughput.png";
  static final String TTFT = "ttft.png";
  static final String TPOT = "tpot.png";
  static final String LATENCY_CDF = "latency_cdf.png";

  /** Fixed colours, so output tokens and requests look the same in every throughput chart. */
  private static final Color TOKENS_COLOUR = new Color(31, 119, 180);

  private static final Color REQUESTS_COLOUR = new Color(230, 115, 0);

  private static final BasicStroke DASHED =
      new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f},
          0f);

  static {
    // Charts are drawn into images on machines without a display (GPU hosts, CI); this must be
    // set before the first AWT class asks for the graphics environment.
    System.setProperty("java.awt.headless", "true");
  }

  private SweepCharts() {}

  /**
   * Output tokens/s (left axis) and requests/s (right axis) against the sweep's axis; a world-size
   * sweep also has the line of linear scaling.
   */
  static XYChart throughput(SweepReport report) {
    XYChart chart = sweepChart(report, "Throughput by " + report.axis().noun(), "Output tokens/s");
    List<SweepPoint> points = report.points();
    double[] x = positions(points.size());
    double[] tokens = values(points, p -> p.result().outputTokenThroughput());
    double[] requests = values(points, p -> p.result().requestThroughput());
    SweepPoint base = points.get(0);

    XYSeries output = chart.addSeries("Output tokens/s (left axis)", x, tokens);
    output.setLineColor(TOKENS_COLOUR);
    output.setMarkerColor(TOKENS_COLOUR);
    if (points.size() > 1 && report.axis() == SweepAxis.WORLD_SIZE) {
      double[] ideal = values(points, p -> base.result().outputTokenThroughput()
          * p.worldSize() / base.worldSize());
      XYSeries linear = chart.addSeries("Linear scaling of output tokens/s from world size "
          + base.worldSize(), x, ideal);
      linear.setLineStyle(DASHED);
      linear.setLineColor(Color.GRAY);
      linear.setMarker(SeriesMarkers.NONE);
    }
    XYSeries perSecond = chart.addSeries("Requests/s (right axis)", x, requests);
    perSecond.setYAxisGroup(1);
    perSecond.setLineColor(REQUESTS_COLOUR);
    perSecond.setMarkerColor(REQUESTS_COLOUR);
    chart.setYAxisGroupTitle(1, "Requests/s");
    chart.getStyler().setYAxisGroupPosition(1, YAxisPosition.Right);
    chart.getStyler().setYAxisMin(0, 0.0);
    chart.getStyler().setYAxisMin(1, 0.0);
    return chart;
  }

  /** Median, P90 and P99 time to first token against the sweep's axis. */
  static XYChart ttft(SweepReport report) {
    return percentiles(report, "Time to first token by " + report.axis().noun(), "TTFT (ms)",
        p -> p.result().ttftMs());
  }

  /** Median, P90 and P99 time per output token against the sweep's axis. */
  static XYChart tpot(SweepReport report) {
    return percentiles(report, "Time per output token (excl. 1st) by " + report.axis().noun(), "TPOT (ms)",
        p -> p.result().tpotMs());
  }

  /**
   * The share of requests completed within a given end-to-end latency, one curve per point, over
   * completed requests (a point with none has no curve).
   */
  static XYChart latencyCdf(SweepReport report) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title("End-to-end latency CDF by " + report.axis().noun())
        .xAxisTitle("End-to-end latency (ms)")
        .yAxisTitle("Requests completed within latency (%)")
        .build();
    style(chart);
    chart.getStyler().setLegendPosition(LegendPosition.InsideSE);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(100.0);
    chart.getStyler().setXAxisMin(0.0);
    boolean any = false;
    for (SweepPoint point : report.points()) {
      double[] latencies = point.requests().stream()
          .filter(RequestRecord::completed)
          .mapToDouble(RequestRecord::e2eMs)
          .filter(Double::isFinite)
          .sorted()
          .toArray();
      if (latencies.length == 0) {
        continue;
      }
      double[] share = new double[latencies.length];
      for (int i = 0; i < share.length; i++) {
        share[i] = 100.0 * (i + 1) / latencies.length;
      }
      XYSeries series = chart.addSeries(
          point.axis().label() + " " + point.axis().format(point.axisValue()) + " (" + latencies.length
              + " requests)",
          latencies, share);
      series.setXYSeriesRenderStyle(XYSeriesRenderStyle.Step);
      series.setMarker(SeriesMarkers.NONE);
      any = true;
    }
    if (!any) {
      // An empty chart still says why it is empty rather than failing the whole report.
      XYSeries none = chart.addSeries("No completed requests", new double[] {0}, new double[] {0});
      none.setMarker(SeriesMarkers.NONE);
    }
    return chart;
  }

  /** Writes the four charts into {@code dir}; returns their paths in the order above. */
  static List<Path> write(SweepReport report, Path dir) throws IOException {
    return List.of(
        save(THROUGHPUT, dir, () -> throughput(report)),
        save(TTFT, dir, () -> ttft(report)),
        save(TPOT, dir, () -> tpot(report)),
        save(LATENCY_CDF, dir, () -> latencyCdf(report)));
  }

  private interface ChartSource {
    XYChart draw();
  }

  /**
   * Draws and saves one chart. A failure to draw (say, a runtime without fonts) is reported as an
   * IOException naming the chart, so the caller's other files are still written and the message
   * says which file is missing.
   */
  private static Path save(String name, Path dir, ChartSource source) throws IOException {
    Path file = dir.resolve(name);
    byte[] png;
    try {
      png = ChartEncoder.getBytes(source.draw(), "png");
    } catch (RuntimeException | Error e) {
      throw new IOException("cannot draw " + file + ": " + e, e);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(png);
    }
    return file;
  }

  private static XYChart percentiles(SweepReport report, String title, String yAxis,
      Function<SweepPoint, LatencyStats> stats) {
    XYChart chart = sweepChart(report, title, yAxis);
    List<SweepPoint> points = report.points();
    double[] x = positions(points.size());
    chart.addSeries("P50 (median)", x, values(points, p -> stats.apply(p).median()));
    chart.addSeries("P90", x, values(points, p -> stats.apply(p).p90()));
    chart.addSeries("P99", x, values(points, p -> stats.apply(p).p99()));
    chart.getStyler().setYAxisMin(0.0);
    return chart;
  }

  /** A line chart over the sweep's points at positions 0..n-1, labelled with their axis values. */
  private static XYChart sweepChart(SweepReport report, String title, String yAxis) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title(title).xAxisTitle(report.axis().axisTitle()).yAxisTitle(yAxis).build();
    style(chart);
    List<SweepPoint> points = report.points();
    String[] labels = points.stream().map(p -> p.axis().format(p.axisValue())).toArray(String[]::new);
    // No explicit x range: XChart puts ticks exactly on equally spaced data values only when the
    // axis spans just those values (the plot's own margin keeps the end points off the frame).
    chart.getStyler().setXAxisTickLabelsFormattingFunction(pointLabels(labels));
    // Below the plot: the lines of a sweep may run through any corner of it.
    chart.getStyler().setLegendPosition(LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(LegendLayout.Horizontal);
    return chart;
  }

  /** Position i is labelled with the i-th point's value; anything between points stays blank. */
  private static Function<Double, String> pointLabels(String[] labels) {
    return position -> {
      long index = Math.round(position);
      boolean onPoint = Math.abs(position - index) < 1e-6 && index >= 0 && index < labels.length;
      return onPoint ? labels[(int) index] : " ";
    };
  }

  private static void style(XYChart chart) {
    XYStyler styler = chart.getStyler();
    styler.setDefaultSeriesRenderStyle(XYSeriesRenderStyle.Line);
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setPlotGridLinesColor(new Color(225, 225, 225));
    styler.setLegendBackgroundColor(new Color(255, 255, 255, 220));
  }

  private static double[] positions(int count) {
    double[] x = new double[count];
    Arrays.setAll(x, i -> i);
    return x;
  }

  private static double[] values(List<SweepPoint> points, ToDoubleFunction<SweepPoint> value) {
    return points.stream().mapToDouble(value).toArray();
  }
}
