package io.decodefleet.coordinator.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * report.html: one self-contained page with the sweep's interactive charts — throughput and the
 * TTFT/TPOT/ITL/E2EL statistics against the sweep's axis, a dot per request (TTFT and release time
 * against E2E), each agent's step reports over time, and the per-kernel-family breakdown of a
 * profiled decode step when the run recorded one.
 *
 * <p>Nothing is fetched when the page opens: uPlot's minified JS and CSS come from its webjar on the
 * classpath (org.webjars.npm:uplot, MIT) and are inlined, as are the page's own script
 * ({@code report.js} beside this class) and the data, one JSON blob: report.json's tree plus the
 * per-request and per-agent series. Charts draw on canvas with the browser's generic sans-serif, so
 * the writer needs no fonts (unlike the PNG charts).
 */
final class ReportHtml {

  /** Requests per sweep point drawn in the scatter charts; a larger point is sampled evenly. */
  static final int MAX_SCATTER_REQUESTS = 20_000;

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String WEBJAR = "/META-INF/resources/webjars/uplot/";

  private ReportHtml() {}

  /** The page of {@code report}. */
  static String render(SweepReport report) throws IOException {
    String version = uplotVersion();
    String page = resource(ReportHtml.class, "report.html");
    String title = (report.simulated() ? "SIMULATED" + (report.simulation().projection() ? " (projection)" : "")
        + " — " : "") + "DecodeFleet report: " + report.model() + " on " + report.backend() + ", " + report.startedAt();
    // Literal replacements: the minified library is full of '$' and '\'.
    return page
        .replace("{{TITLE}}", escapeHtml(title))
        .replace("/*{{UPLOT_CSS}}*/", resource(ReportHtml.class, WEBJAR + version + "/dist/uPlot.min.css"))
        .replace("/*{{UPLOT_JS}}*/", inScript(resource(ReportHtml.class, WEBJAR + version + "/dist/uPlot.iife.min.js")))
        .replace("/*{{REPORT_JS}}*/", inScript(resource(ReportHtml.class, "report.js")))
        .replace("{{DATA}}", MAPPER.writeValueAsString(data(report)).replace("<", "\\u003c"));
  }

  /** The blob the page's script reads: see report.js for how each part is drawn. */
  static ObjectNode data(SweepReport report) {
    ObjectNode root = MAPPER.createObjectNode();
    root.set("report", ReportJson.toJson(report));
    ObjectNode axis = root.putObject("axis");
    axis.put("key", report.axis().key());
    axis.put("label", report.axis().label());
    axis.put("noun", report.axis().noun());
    axis.put("title", report.axis().axisTitle());
    ArrayNode labels = root.putArray("labels");
    ArrayNode requests = root.putArray("requests");
    ArrayNode timeline = root.putArray("timeline");
    for (SweepPoint point : report.points()) {
      labels.add(point.axis().format(point.axisValue()));
      requests.add(requestSeries(point));
      timeline.add(stepTimeline(point));
    }
    return root;
  }

  /** Completed requests' release, TTFT and E2E (ms); an even sample past {@link #MAX_SCATTER_REQUESTS}. */
  private static ObjectNode requestSeries(SweepPoint point) {
    var done = point.requests().stream().filter(RequestRecord::completed).toList();
    int stride = Math.max(1, (done.size() + MAX_SCATTER_REQUESTS - 1) / MAX_SCATTER_REQUESTS);
    ObjectNode node = MAPPER.createObjectNode();
    ArrayNode release = node.putArray("release");
    ArrayNode ttft = node.putArray("ttft");
    ArrayNode e2e = node.putArray("e2e");
    for (int i = 0; i < done.size(); i += stride) {
      RequestRecord r = done.get(i);
      release.add(round(r.releasedMs()));
      ttft.add(round(r.ttftMs()));
      e2e.add(round(r.e2eMs()));
    }
    node.put("total", done.size());
    node.put("shown", release.size());
    return node;
  }

  /**
   * Per agent, the step reports that carried tokens as the coordinator received them: their time (s
   * after the start) and token count. Tokens of one report share an arrival time, so the distinct
   * arrival times of an agent's tokens are its reports. Requests that moved between agents are left
   * out: their record names only the last agent.
   */
  private static ArrayNode stepTimeline(SweepPoint point) {
    Map<String, TreeMap<Double, Integer>> byAgent = new TreeMap<>();
    for (RequestRecord r : point.requests()) {
      if (r.agentId() == null || r.migrations() > 0) continue;
      TreeMap<Double, Integer> reports = byAgent.computeIfAbsent(r.agentId(), id -> new TreeMap<>());
      for (double t : r.tokenArrivalsMs()) reports.merge(t, 1, Integer::sum);
    }
    ArrayNode agents = MAPPER.createArrayNode();
    byAgent.entrySet().stream()
        .sorted(Map.Entry.comparingByKey(io.decodefleet.coordinator.metrics.AgentOrder.INSTANCE))
        .forEach(e -> {
          ObjectNode agent = agents.addObject();
          agent.put("agent", e.getKey());
          ArrayNode t = agent.putArray("t");
          ArrayNode tokens = agent.putArray("tokens");
          e.getValue().forEach((ms, n) -> {
            t.add(round(ms / 1e3));
            tokens.add(n);
          });
        });
    return agents;
  }

  /** Six significant figures are plenty for a chart and keep the page small. */
  private static double round(double v) {
    if (!Double.isFinite(v) || v == 0) return Double.isFinite(v) ? v : 0;
    return new java.math.BigDecimal(v).round(new java.math.MathContext(6)).doubleValue();
  }

  /** The uPlot webjar's version, from its Maven metadata on the classpath. */
  static String uplotVersion() throws IOException {
    try (InputStream in = ReportHtml.class.getResourceAsStream("/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
      if (in == null) throw new IOException("the uPlot webjar (org.webjars.npm:uplot) is not on the classpath");
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    }
  }

  private static String resource(Class<?> near, String name) throws IOException {
    try (InputStream in = near.getResourceAsStream(name)) {
      if (in == null) throw new IOException("resource " + name + " is missing from the classpath");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Script text that cannot end its {@code <script>} element early. */
  private static String inScript(String js) {
    return js.replace("</script", "<\\/script");
  }

  private static String escapeHtml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
