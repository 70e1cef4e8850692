package io.decodefleet.coordinator.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A soak's result as soak.json and as the console summary. */
final class SoakReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private SoakReport() {}

  static void write(SoakResult r, Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, JSON.writeValueAsString(toJson(r)) + "\n");
  }

  static ObjectNode toJson(SoakResult r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("passed", r.passed());
    o.put("date", r.date());
    settings(o, r.settings());
    o.put("load_s", round(r.loadSeconds()));
    o.put("total_s", round(r.totalSeconds()));
    phases(o, r.phases());
    SoakResult.Requests q = r.requests();
    ObjectNode req = o.putObject("requests");
    req.put("reference", q.reference());
    req.put("sent", q.sent());
    req.put("grpc", q.grpc());
    req.put("http", q.http());
    req.put("completed", q.completed());
    req.put("lost", q.lost());
    req.put("duplicated", q.duplicated());
    req.put("mismatched", q.mismatched());
    req.put("retried", q.retried());
    req.put("attempts", q.attempts());
    req.put("grpc_reported_migrations", q.clientMigrations());
    ArrayNode reasons = req.putArray("retry_reasons");
    q.retryReasons().forEach(c -> reasons.addObject().put("reason", c.reason()).put("count", c.count()));
    ArrayNode lost = req.putArray("lost_examples");
    q.lostExamples().forEach(lost::add);
    ObjectNode f = o.putObject("faults");
    f.put("injected", r.faults().size());
    for (Map.Entry<FaultInjector.Kind, Integer> e : r.faultsByKind().entrySet()) f.put(e.getKey().label, e.getValue());
    f.put("ticks_skipped", r.faultTicksSkipped());
    ArrayNode events = f.putArray("events");
    for (FaultInjector.Fault e : r.faults()) {
      ObjectNode ev = events.addObject();
      ev.put("at_s", round(e.atSeconds()));
      ev.put("kind", e.kind().label);
      ev.put("node", e.node());
      ev.put("pid", e.pid());
      ev.put("back_after_s", round(e.restartSeconds()));
      if (e.problem() == null) ev.putNull("problem"); else ev.put("problem", e.problem());
    }
    ObjectNode fleet = o.putObject("fleet");
    fleet.put("kv_migrations", r.fleet().kvMigrations());
    fleet.put("reprefill_migrations", r.fleet().reprefillMigrations());
    fleet.put("replacements", r.fleet().replacements());
    fleet.put("agents_lost", r.fleet().agentsLost());
    fleet.put("requests_finished", r.fleet().requestsFinished());
    fleet.put("agents_up_at_end", r.fleet().agentsUpAtEnd());
    ObjectNode heap = o.putObject("coordinator_heap_after_gc");
    heap.put("start_bytes", r.heap().startBytes());
    heap.put("end_bytes", r.heap().endBytes());
    if (Double.isNaN(r.heap().growthPercent())) heap.putNull("growth_percent"); else heap.put("growth_percent", round(r.heap().growthPercent()));
    ArrayNode processes = heap.putArray("processes");
    for (SoakResult.HeapFigure h : r.heap().processes()) {
      processes.addObject().put("process", h.process()).put("pid", h.pid()).put("start_bytes", h.startBytes())
          .put("end_bytes", h.endBytes());
    }
    ArrayNode traces = o.putArray("stack_traces");
    for (LogScan.StackTrace t : r.stackTraces()) {
      traces.addObject().put("file", t.file().toString()).put("line", t.line()).put("lines", t.lines())
          .put("excerpt", t.excerpt());
    }
    ArrayNode problems = o.putArray("problems");
    r.problems().forEach(problems::add);
    ArrayNode checks = o.putArray("checks");
    r.checks().forEach(c -> checks.addObject().put("name", c.name()).put("passed", c.passed()).put("detail", c.detail()));
    return o;
  }

  /**
   * soak.json of a soak that stopped on an error before it had a result: not passed, the settings,
   * the phases it finished, the problems met so far, and the error with its stack trace (each
   * process's output stays in logs/ beside it).
   */
  static void writeStopped(String date, SoakSettings settings, List<SoakResult.Phase> phases, List<String> problems,
      Throwable error, Path file) throws IOException {
    ObjectNode o = JSON.createObjectNode();
    o.put("passed", false);
    o.put("date", date);
    settings(o, settings);
    phases(o, phases);
    ObjectNode e = o.putObject("stopped_by");
    e.put("error", String.valueOf(error));
    StringWriter trace = new StringWriter();
    error.printStackTrace(new PrintWriter(trace));
    e.put("stack_trace", trace.toString());
    ArrayNode p = o.putArray("problems");
    problems.forEach(p::add);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, JSON.writeValueAsString(o) + "\n");
  }

  private static void settings(ObjectNode o, SoakSettings settings) {
    ObjectNode s = o.putObject("settings");
    s.put("duration_s", settings.duration().toSeconds());
    s.put("coordinators", settings.coordinators());
    s.put("daemons", settings.daemons());
    s.put("fault_interval_s", settings.faultInterval().toSeconds());
    s.put("concurrency", settings.concurrency());
    s.put("seed", settings.seed());
    s.put("model", SoakSettings.MODEL);
    s.put("backend", "cpu");
  }

  private static void phases(ObjectNode o, List<SoakResult.Phase> phases) {
    ObjectNode p = o.putObject("phases_s");
    phases.forEach(ph -> p.put(ph.name(), round(ph.seconds())));
  }

  static void print(SoakResult r, PrintStream out) {
    SoakResult.Requests q = r.requests();
    out.println("================ DecodeFleet soak ================");
    row(out, "Load / whole soak (s)", String.format("%.1f / %.1f", r.loadSeconds(), r.totalSeconds()));
    row(out, "Coordinators / daemons", r.settings().coordinators() + " / " + r.settings().daemons());
    row(out, "Requests (gRPC / HTTP)", q.sent() + " (" + q.grpc() + " / " + q.http() + ")");
    row(out, "Completed exactly once", Integer.toString(q.completed()));
    row(out, "Lost", Integer.toString(q.lost()));
    row(out, "Duplicated", Integer.toString(q.duplicated()));
    row(out, "Tokens unlike the reference", Integer.toString(q.mismatched()));
    row(out, "Retried requests (attempts)", q.retried() + " (" + q.attempts() + ")");
    StringBuilder kinds = new StringBuilder();
    r.faultsByKind().forEach((k, n) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(k.label).append(' ').append(n));
    row(out, "Faults injected", r.faults().size() + " (" + kinds + ")");
    row(out, "Migrations (kv / reprefill)", r.fleet().kvMigrations() + " / " + r.fleet().reprefillMigrations());
    row(out, "Re-placements", Long.toString(r.fleet().replacements()));
    row(out, "Agents lost / up at the end", r.fleet().agentsLost() + " / " + r.fleet().agentsUpAtEnd());
    String growth = Double.isNaN(r.heap().growthPercent()) ? "" : String.format(" (%+.1f %%)", r.heap().growthPercent());
    row(out, "Coordinators' heap after GC", mib(r.heap().startBytes()) + " -> " + mib(r.heap().endBytes()) + growth);
    for (SoakResult.HeapFigure h : r.heap().processes()) {
      row(out, "  " + h.process() + " (pid " + h.pid() + ")", mib(h.startBytes()) + " -> " + mib(h.endBytes()));
    }
    row(out, "Log files with stack traces", Integer.toString(r.stackTraces().size()));
    out.println("---------------------- Checks ----------------------");
    for (SoakResult.Check c : r.checks()) out.println((c.passed() ? "PASS " : "FAIL ") + c.name() + ": " + c.detail());
    for (String p : r.problems()) out.println("problem: " + p);
    out.println("====================================================");
  }

  private static void row(PrintStream out, String name, String value) {
    out.printf("%-38s %s%n", name + ":", value);
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "-" : String.format("%.1f MiB", bytes / 1048576.0);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
