package io.decodefleet.coordinator.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes and reads report.json. The metrics are laid out flat, with the key names of {@code vllm
 * bench serve --save-result} ("completed", "duration" in seconds, "request_throughput",
 * "request_goodput", "output_throughput", "mean_ttft_ms", "p99_itl_ms", ...), so tools written for
 * vLLM's result files read ours. Each latency has "mean_*_ms", "std_*_ms" and "median_*_ms", and
 * the metrics the report's {@link PercentileSpec} covers a "p{p}_*_ms" per percentile, as vLLM
 * writes them; beyond vLLM's keys each latency also has "min_*_ms", "max_*_ms" and a sample count
 * ("ttft_count", ...), and there are "agents" and "migrations".
 *
 * <p>A {@link SweepReport} is written as its top-level fields ("command", "started_at",
 * "hardware", "backend", "model", "simulated" and "simulation" for a simulated sweep only ({@link
 * SimulationDescription}), "client" for a client-mode sweep only, "versions", "settings",
 * "goodput", "percentiles": {@code {"metrics": [...], "percentiles": [...]}}), "sweep" ({@code {"axis": "world_size" | "request_rate" | "max_concurrency", "values":
 * [...]}}) and a "points" array, one flat object per point that also has the axis's key with its
 * value and, on the world-size axis, "scaling_efficiency" (see {@link #pointJson}).
 * "request_goodput" is present in every point, null without SLOs, as vLLM writes it. An infinite
 * request rate or concurrency is written "inf", as vLLM writes an infinite request rate.
 *
 * <p>JSON has no NaN or infinity; non-finite numbers, including any in the caller's settings, are
 * written as null.
 */
public final class ReportJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ReportJson() {}

  /** Writes {@code report} as pretty-printed UTF-8 JSON, creating parent directories. */
  public static void write(SweepReport report, Path file) throws IOException {
    writeTree(toJson(report), file);
  }

  private static void writeTree(JsonNode tree, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(tree);
    Files.writeString(file, json + "\n", StandardCharsets.UTF_8);
  }

  /** Reads a report written by {@link #write} (or any JSON file) as a tree. */
  public static JsonNode read(Path file) throws IOException {
    return MAPPER.readTree(file.toFile());
  }

  /** The sweep report as a JSON tree, in the field order of the file. */
  public static ObjectNode toJson(SweepReport report) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("command", report.command());
    root.put("started_at", report.startedAt());
    root.put("hardware", report.hardware());
    root.put("backend", report.backend());
    root.put("model", report.model());
    if (report.simulation() != null) {
      root.put("simulated", true);
      SimulationDescription sim = report.simulation();
      ObjectNode simulation = root.putObject("simulation");
      simulation.put("calibration", sim.calibration());
      simulation.put("kind", sim.kind());
      simulation.put("device", sim.device());
      simulation.put("calibration_date", sim.calibrationDate());
      simulation.put("table", sim.table());
      simulation.put("engine", sim.engine());
      ArrayNode failures = simulation.putArray("failures");
      sim.failures().forEach(failures::add);
    }
    if (report.client() != null) {
      ObjectNode client = root.putObject("client");
      client.put("endpoint", report.client().url());
      client.put("served_model", report.client().servedModel());
    }
    root.set("versions", MAPPER.valueToTree(report.versions()));
    root.set("settings", withoutNonFinite(report.settings().deepCopy()));
    if (report.goodput() == null) {
      root.putNull("goodput");
    } else {
      ObjectNode slos = root.putObject("goodput");
      report.goodput().limitsMs().forEach((metric, ms) -> number(slos, metric, ms));
    }
    ObjectNode sweep = root.putObject("sweep");
    sweep.put("axis", report.axis().key());
    ArrayNode values = sweep.putArray("values");
    for (SweepPoint point : report.points()) {
      values.add(axisValue(point));
    }
    ObjectNode asked = root.putObject("percentiles");
    ArrayNode metrics = asked.putArray("metrics");
    report.percentiles().metrics().forEach(metrics::add);
    ArrayNode at = asked.putArray("percentiles");
    report.percentiles().percentiles().forEach(at::add);
    ArrayNode points = root.putArray("points");
    for (SweepPoint point : report.points()) {
      points.add(pointJson(point, report.percentiles()));
    }
    return root;
  }

  /**
   * One sweep point, flat: its axis's key with its value ("world_size", "request_rate" or
   * "max_concurrency"), "scaling_efficiency" on the world-size axis only, vLLM's result keys (with
   * "request_goodput", null without SLOs), the latency keys, then "agents" (each agent's
   * description merged with its request and token counts), "migrations", "engine", "profile"
   * (only when decode steps were profiled: see {@link #profile}), "expert_load" (a mixture of experts only:
   * see {@link ExpertLoadReport#json}) and "verification". Expectations files
   * ({@code io.decodefleet.coordinator.report.Expectations})
   * name metrics by these keys.
   */
  public static ObjectNode pointJson(SweepPoint point) {
    return pointJson(point, PercentileSpec.DEFAULT);
  }

  /**
   * As {@link #pointJson(SweepPoint)}, with "p{p}_{metric}_ms" keys for the metrics and
   * percentiles {@code percentiles} names (each metric has "mean", "std" and "median" keys
   * whatever it names).
   */
  public static ObjectNode pointJson(SweepPoint point, PercentileSpec percentiles) {
    ObjectNode node = MAPPER.createObjectNode();
    if (point.axis() == SweepAxis.WORLD_SIZE) {
      node.put("world_size", point.worldSize());
      number(node, "scaling_efficiency", point.scalingEfficiency());
    } else {
      node.set(point.axis().key(), axisValue(point));
    }
    BenchmarkResult r = point.result();
    metrics(node, r, percentiles);
    agents(node, r, point.agents());
    node.put("migrations", r.migrations());
    node.set("engine", engine(point.engine()));
    if (point.engine() != null && point.engine().profile() != null) node.set("profile", profile(point.engine().profile()));
    if (point.engine() != null && point.engine().expertLoad() != null) {
      node.set("expert_load", ExpertLoadReport.json(MAPPER, point.engine().expertLoad()));
    }
    node.set("verification", verification(point.verification()));
    return node;
  }

  /** vLLM's flat result keys. */
  private static void metrics(ObjectNode node, BenchmarkResult r, PercentileSpec percentiles) {
    node.put("completed", r.completed());
    node.put("failed", r.failed());
    number(node, "duration", r.durationSeconds());
    node.put("total_input_tokens", r.totalInputTokens());
    node.put("total_output_tokens", r.totalOutputTokens());
    number(node, "request_throughput", r.requestThroughput());
    number(node, "request_goodput", r.requestGoodput());
    number(node, "output_throughput", r.outputTokenThroughput());
    number(node, "total_token_throughput", r.totalTokenThroughput());
    latency(node, "ttft", r.ttftMs(), percentiles);
    latency(node, "tpot", r.tpotMs(), percentiles);
    latency(node, "itl", r.itlMs(), percentiles);
    latency(node, "e2el", r.e2eMs(), percentiles);
  }

  /**
   * "agents": one object per agent in natural id order: "agent_id", "requests", "output_tokens"
   * from the result, then the agent's description from {@code described} (matched by its id; the
   * first wins): "device", "backend", "node", "alive", "kv_blocks", "block_size", and "load" (what
   * its backend chose at load, e.g. the GEMM dispatch) where it said something. An agent known
   * from one side only still appears, with zero counts when it produced nothing.
   */
  private static void agents(ObjectNode node, BenchmarkResult r, List<AgentDescription> described) {
    Map<String, AgentStats> counts = new TreeMap<>(AgentOrder.INSTANCE);
    Map<String, AgentDescription> descriptions = new TreeMap<>(AgentOrder.INSTANCE);
    for (AgentStats stats : r.agents()) {
      counts.put(stats.agentId(), stats);
    }
    for (AgentDescription d : described) {
      descriptions.putIfAbsent(d.agentId(), d);
    }
    Map<String, Boolean> ids = new TreeMap<>(AgentOrder.INSTANCE);
    counts.keySet().forEach(id -> ids.put(id, true));
    descriptions.keySet().forEach(id -> ids.put(id, true));
    ArrayNode agents = node.putArray("agents");
    for (String id : ids.keySet()) {
      ObjectNode entry = agents.addObject();
      AgentStats stats = counts.get(id);
      entry.put("agent_id", id);
      entry.put("requests", stats == null ? 0 : stats.requests());
      entry.put("output_tokens", stats == null ? 0L : stats.outputTokens());
      AgentDescription d = descriptions.get(id);
      if (d != null) {
        entry.put("device", d.device());
        entry.put("backend", d.backend());
        entry.put("node", d.node());
        entry.put("alive", d.alive());
        entry.put("kv_blocks", d.kvBlocks());
        entry.put("block_size", d.blockSize());
        if (!d.load().isEmpty()) entry.put("load", d.load());
      }
    }
  }

  /** "engine": the run's engine totals in the file's field order; an empty object when there are none. */
  private static ObjectNode engine(EngineTotals e) {
    ObjectNode node = MAPPER.createObjectNode();
    if (e == null) {
      return node;
    }
    node.put("reported_steps", e.reportedSteps());
    node.put("scheduled_tokens", e.scheduledTokens());
    number(node, "mean_step_ms", e.meanStepMs());
    node.put("preemptions", e.preemptions());
    ArrayNode buckets = node.putArray("step_time_by_batch");
    for (EngineTotals.BatchBucketSteps b : e.stepTimeByBatch()) {
      ObjectNode line = buckets.addObject();
      line.put("batch_bucket", b.batchBucket());
      line.put("steps", b.steps());
      number(line, "mean_step_ms", b.meanStepMs());
    }
    ObjectNode paths = node.putObject("steps_by_path");
    e.stepsByPath().forEach(paths::put);
    number(node, "mean_host_us_per_step", e.meanHostUsPerStep());
    number(node, "mean_gpu_us_per_step", e.meanGpuUsPerStep());
    number(node, "mean_gpu_idle_gap_us", e.meanGpuIdleGapUs());
    node.put("agents_lost", e.agentsLost());
    node.put("migrations", e.migrations());
    node.put("kv_migrations", e.kvMigrations());
    node.put("reprefill_migrations", e.reprefillMigrations());
    if (e.prefixQueriedTokens() > 0) {
      ObjectNode prefix = node.putObject("prefix_cache");
      prefix.put("queried_tokens", e.prefixQueriedTokens());
      prefix.put("hit_tokens", e.prefixHitTokens());
      number(prefix, "hit_rate", e.prefixHitRate());
      prefix.put("deferred_admissions", e.prefixDeferredAdmissions());
    }
    if (e.kvTransfers() != null) {
      node.set("kv_transfers", kvTransfers(e.kvTransfers()));
    }
    return node;
  }

  private static ObjectNode kvTransfers(KvTransferSummary kv) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("layout", kv.layout());
    node.put("mode", kv.mode());
    node.put("group", kv.group());
    node.put("count", kv.count());
    node.put("bytes", kv.bytes());
    node.put("mean_bytes", kv.meanBytes());
    number(node, "mean_ms", kv.meanMs());
    number(node, "p50_ms", kv.p50Ms());
    number(node, "p99_ms", kv.p99Ms());
    number(node, "max_ms", kv.maxMs());
    number(node, "gb_per_s", kv.gbPerS());
    number(node, "mean_send_ms", kv.meanSendMs());
    number(node, "mean_receive_ms", kv.meanReceiveMs());
    number(node, "mean_handoff_ms", kv.meanHandoffMs());
    number(node, "p50_handoff_ms", kv.p50HandoffMs());
    number(node, "p99_handoff_ms", kv.p99HandoffMs());
    node.put("recomputed", kv.recomputed());
    node.put("handoffs", kv.handoffs());
    node.put("migrations", kv.migrations());
    node.put("migration_bytes", kv.migrationBytes());
    number(node, "mean_migration_ms", kv.meanMigrationMs());
    number(node, "mean_migration_wait_ms", kv.meanMigrationWaitMs());
    node.put("time_is", kv.timeIs());
    return node;
  }

  /**
   * "profile": the run's profiled decode steps (--profile-steps): "backend", "steps", "mean_batch",
   * "step_ms", "families_ms", "untimed_ms", "floor_ms", and "families", one object per kernel family
   * in step order with "family", "ms_per_step", "share" (of the step) and "floor_ms" (null where unknown).
   */
  private static ObjectNode profile(StepProfileSummary p) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("backend", p.backend());
    node.put("steps", p.steps());
    number(node, "mean_batch", p.meanBatch());
    number(node, "step_ms", p.stepMs());
    number(node, "families_ms", p.familiesMs());
    number(node, "untimed_ms", p.untimedMs());
    number(node, "floor_ms", p.floorMs());
    ArrayNode families = node.putArray("families");
    for (StepProfileSummary.FamilyTime f : p.families()) {
      ObjectNode line = families.addObject();
      line.put("family", f.family());
      number(line, "ms_per_step", f.msPerStep());
      number(line, "share", f.share());
      number(line, "floor_ms", f.floorMs());
    }
    return node;
  }

  private static JsonNode verification(VerificationSummary v) {
    if (v == null) {
      return NullNode.getInstance();
    }
    ObjectNode node = MAPPER.createObjectNode();
    node.put("passed", v.passed());
    node.put("sequences_checked", v.sequencesChecked());
    node.put("failures", v.failures());
    number(node, "max_rel_error", v.maxRelError());
    number(node, "tolerance", v.tolerance());
    ArrayNode details = node.putArray("failure_details");
    v.failureDetails().forEach(details::add);
    return node;
  }

  /** The point's value on its axis: a whole number, a decimal (a request rate), or "inf". */
  private static JsonNode axisValue(SweepPoint point) {
    double v = point.axisValue();
    if (Double.isInfinite(v)) {
      return MAPPER.getNodeFactory().textNode("inf");
    }
    return point.axis() == SweepAxis.REQUEST_RATE ? MAPPER.getNodeFactory().numberNode(v)
        : MAPPER.getNodeFactory().numberNode((long) v);
  }

  /** vLLM's "mean_ttft_ms" style keys (std, median, the percentiles asked for), plus min/max and the sample count. */
  private static void latency(ObjectNode root, String metric, LatencyStats stats, PercentileSpec percentiles) {
    number(root, "mean_" + metric + "_ms", stats.mean());
    number(root, "std_" + metric + "_ms", stats.std());
    number(root, "median_" + metric + "_ms", stats.median());
    if (percentiles.covers(metric)) {
      for (double p : percentiles.percentiles()) {
        number(root, "p" + PercentileSpec.word(p) + "_" + metric + "_ms", stats.percentile(p));
      }
    }
    number(root, "min_" + metric + "_ms", stats.min());
    number(root, "max_" + metric + "_ms", stats.max());
    root.put(metric + "_count", stats.count());
  }

  private static void number(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else {
      node.putNull(key);
    }
  }

  /** A measured value that may be missing (null) or non-finite: both are written as null. */
  private static void number(ObjectNode node, String key, Double value) {
    if (value == null) {
      node.putNull(key);
    } else {
      number(node, key, value.doubleValue());
    }
  }

  /** The caller's settings with every non-finite number made null. */
  private static JsonNode withoutNonFinite(JsonNode node) {
    if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
      return NullNode.getInstance();
    }
    if (node instanceof ObjectNode object) {
      // Copy first: replacing values while iterating the live view is not promised to work.
      for (Map.Entry<String, JsonNode> field : new ArrayList<>(object.properties())) {
        object.set(field.getKey(), withoutNonFinite(field.getValue()));
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        array.set(i, withoutNonFinite(array.get(i)));
      }
    }
    return node;
  }
}
