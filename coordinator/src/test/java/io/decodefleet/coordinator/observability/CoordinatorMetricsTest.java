package io.decodefleet.coordinator.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The coordinator's metrics as their feeds move them, read back from the exposition /metrics serves. */
class CoordinatorMetricsTest {
  private static final long MS = 1_000_000L;
  private final CoordinatorMetrics metrics = new CoordinatorMetrics();

  private Exposition scrape() {
    return new Exposition(new String(metrics.endpoint().scrape(null).body(), StandardCharsets.UTF_8));
  }

  private static AgentReport.StepReport step(String agent, int running, int waiting, int freeBlocks, int batch,
      long stepNanos, String path, List<SequenceTokens> tokens) {
    return new AgentReport.StepReport(agent, 1, tokens, List.of(), freeBlocks, running, waiting, batch, stepNanos, 0,
        batch, path, stepNanos, Double.NaN, 25.0);
  }

  @Test
  void aStepReportMovesTheAgentsGaugesAndCountsTheStepByBucketAndPath() {
    metrics.reported("", new AgentReport.ModelLoaded("agent-0", 64, 16, 8, 1024, 3, "", "", ""));
    metrics.reported("tiny", step("agent-0", 3, 2, 48, 3, 4 * MS, "persistent+graph", List.of()));
    Exposition e = scrape();
    assertEquals(3, e.value("vllm:num_requests_running", "model_name=tiny", "agent=agent-0"));
    assertEquals(2, e.value("vllm:num_requests_waiting", "model_name=tiny", "agent=agent-0"));
    assertEquals(0.25, e.value("vllm:kv_cache_usage_perc", "model_name=tiny", "agent=agent-0"), 1e-12);
    assertEquals(1, e.value("decodefleet_steps_total", "agent=agent-0", "path=persistent+graph"));
    assertEquals(1, e.value("decodefleet_step_duration_seconds_count", "agent=agent-0", "batch_bucket=4",
        "path=persistent+graph"));
    assertEquals(0.004, e.value("decodefleet_step_duration_seconds_sum", "agent=agent-0"), 1e-12);
    assertEquals(25e-6, e.value("decodefleet_gpu_idle_gap_seconds_sum", "agent=agent-0"), 1e-12);

    metrics.reported("tiny", step("agent-0", 0, 0, 64, 1, 2 * MS, "persistent", List.of()));
    e = scrape();
    assertEquals(0, e.value("vllm:num_requests_running", "agent=agent-0"));
    assertEquals(0, e.value("vllm:num_requests_waiting", "agent=agent-0"));
    assertEquals(0, e.value("vllm:kv_cache_usage_perc", "agent=agent-0"));
    assertEquals(1, e.value("decodefleet_steps_total", "agent=agent-0", "path=persistent"), "an eager step");
    assertEquals(2, e.value("decodefleet_gpu_idle_gap_seconds_count", "agent=agent-0"));

    // The agent is lost: its gauges go, its counts stay.
    metrics.counted(new FleetCounts("tiny", 1, Set.of(), 1, 0, 0, 0));
    e = scrape();
    assertTrue(e.values("vllm:num_requests_running", "agent=agent-0").isEmpty(), e.samples.keySet().toString());
    assertEquals(2, e.sum("decodefleet_steps_total", "agent=agent-0"));
  }

  @Test
  void aKvTransferCountsItsBytesAndDeviceTimeOnItsSide() {
    metrics.reported("tiny", new AgentReport.KvTransferred("agent-1", 7, true, 1 << 20, 1.5, KvTransferOutcome.DONE,
        ""));
    metrics.reported("tiny", new AgentReport.KvTransferred("agent-2", 7, false, 0, Double.NaN,
        KvTransferOutcome.FAILED, "peer gone"));
    Exposition e = scrape();
    assertEquals(1 << 20, e.value("decodefleet_kv_transfer_bytes_total", "agent=agent-1", "direction=sent"));
    assertEquals(0.0015, e.value("decodefleet_kv_transfer_duration_seconds_sum", "agent=agent-1"), 1e-12);
    assertEquals(1, e.value("decodefleet_kv_transfers_total", "agent=agent-2", "direction=received",
        "outcome=failed"));
    assertTrue(e.values("decodefleet_kv_transfer_duration_seconds_count", "agent=agent-2").isEmpty());
  }

  @Test
  void aFinishedRequestObservesEachHistogramOnceWithTheRecordersValues() {
    MetricsRecorder recorder = new MetricsRecorder(metrics.requests("tiny"));
    long t0 = 1_000 * MS;
    recorder.requestReleased(1, 10, 4, t0);
    recorder.tokensArrived(1, "agent-0", 1, t0 + 100 * MS);
    recorder.tokensArrived(1, "agent-0", 2, t0 + 150 * MS); // one report, two tokens: a gap of 0
    recorder.tokensArrived(1, "agent-1", 1, t0 + 300 * MS);
    recorder.requestFinished(1, "length", 5 * MS, t0 + 310 * MS);
    recorder.requestFinished(1, "length", 5 * MS, t0 + 400 * MS); // a second terminal call changes nothing
    Exposition e = scrape();
    assertEquals(10, e.value("vllm:prompt_tokens_total", "model_name=tiny"));
    assertEquals(4, e.value("vllm:generation_tokens_total", "model_name=tiny"));
    assertEquals(1, e.value("vllm:request_success_total", "model_name=tiny", "finished_reason=length"));
    assertHistogram(e, "vllm:time_to_first_token_seconds", 1, 0.1);
    assertHistogram(e, "vllm:e2e_request_latency_seconds", 1, 0.3);
    assertHistogram(e, "vllm:request_time_per_output_token_seconds", 1, 0.2 / 3);
    assertHistogram(e, "vllm:request_queue_time_seconds", 1, 0.005);
    assertHistogram(e, "vllm:inter_token_latency_seconds", 3, 0.2); // gaps 0.05, 0, 0.15
    assertEquals(1, e.value("vllm:inter_token_latency_seconds_bucket", "le=0.001"), "the gap of 0");
  }

  @Test
  void timeToFirstTokenAndInterTokenGapsAreObservedAsTokensArriveNotWhenTheRequestEnds() {
    MetricsRecorder recorder = new MetricsRecorder(metrics.requests("tiny"));
    recorder.requestReleased(1, 10, 100, 0);
    recorder.tokensArrived(1, "agent-0", 1, 200 * MS);
    Exposition e = scrape();
    assertHistogram(e, "vllm:time_to_first_token_seconds", 1, 0.2);
    assertEquals(0, e.value("vllm:inter_token_latency_seconds_count"));
    assertEquals(0, e.value("vllm:e2e_request_latency_seconds_count"), "still running");

    recorder.tokensArrived(1, "agent-0", 3, 230 * MS);
    e = scrape();
    assertHistogram(e, "vllm:inter_token_latency_seconds", 3, 0.03); // 0.03, then two gaps of 0
    assertEquals(1, e.value("vllm:time_to_first_token_seconds_count"), "the first token only");
    assertEquals(0, e.value("vllm:request_time_per_output_token_seconds_count"), "still running");
  }

  @Test
  void aFailedRequestKeepsItsTokensAndFirstTokenTimeButObservesNoEndToEndLatency() {
    MetricsRecorder recorder = new MetricsRecorder(metrics.requests("tiny"));
    recorder.requestReleased(1, 8, 4, 0);
    recorder.tokensArrived(1, "agent-0", 2, 50 * MS);
    recorder.requestFailed(1, "agent lost", 60 * MS);
    recorder.requestReleased(2, 8, 4, 0);
    recorder.requestFinished(2, "length", -1, 70 * MS); // no token: failed
    Exposition e = scrape();
    assertEquals(2, e.value("vllm:generation_tokens_total"));
    assertEquals(8, e.value("vllm:prompt_tokens_total"), "only the one whose prompt was computed");
    assertEquals(0, e.sum("vllm:request_success_total"), "none completed (each reason starts at 0)");
    assertEquals(2, e.values("vllm:request_success_total").size());
    assertHistogram(e, "vllm:time_to_first_token_seconds", 1, 0.05);
    assertEquals(1, e.value("vllm:inter_token_latency_seconds_count"), "the second token of its first report");
    assertEquals(0, e.value("vllm:e2e_request_latency_seconds_count"));
    assertEquals(0, e.value("vllm:request_time_per_output_token_seconds_count"));
  }

  @Test
  void fleetCountsGrowTheCountersByTheirDifferenceAndANewCoordinatorContinuesThem() {
    metrics.counted(new FleetCounts("tiny", 3, Set.of("agent-0", "agent-1"), 1, 3, 1, 2));
    metrics.counted(new FleetCounts("tiny", 3, Set.of("agent-0", "agent-1"), 1, 3, 1, 2));
    Exposition e = scrape();
    assertEquals(3, e.value("decodefleet_agents_registered"));
    assertEquals(2, e.value("decodefleet_agents_up", "model_name=tiny"));
    assertEquals(1, e.value("decodefleet_agents_lost_total"));
    assertEquals(1, e.value("decodefleet_migrations_total", "kind=kv"));
    assertEquals(2, e.value("decodefleet_migrations_total", "kind=reprefill"));
    assertEquals(2, e.value("decodefleet_replacements_total"));
    // A coordinator that took over counts from 0 again.
    metrics.counted(new FleetCounts("tiny", 2, Set.of("agent-0"), 0, 1, 0, 0));
    e = scrape();
    assertEquals(1, e.value("decodefleet_agents_up", "model_name=tiny"));
    assertEquals(3, e.value("decodefleet_migrations_total", "kind=reprefill"));
  }

  @Test
  void vllmNamesKeepTheirColonInBothTextFormatsAndServeLabelsTheServedName() {
    CoordinatorMetrics served = new CoordinatorMetrics(preset -> preset.equals("tiny") ? "my-model" : preset);
    new MetricsRecorder(served.requests("tiny")).requestReleased(1, 4, 4, 0);
    String text = new String(served.endpoint().scrape("text/plain; version=0.0.4").body(), StandardCharsets.UTF_8);
    assertTrue(text.contains("# TYPE vllm:generation_tokens_total counter"), text);
    assertTrue(text.contains("vllm:generation_tokens_total{model_name=\"my-model\"} 0.0"), text);
    var open = served.endpoint().scrape("application/openmetrics-text; version=1.0.0");
    assertTrue(open.contentType().startsWith("application/openmetrics-text"), open.contentType());
    String om = new String(open.body(), StandardCharsets.UTF_8);
    assertTrue(om.contains("# TYPE vllm:generation_tokens counter") && om.endsWith("# EOF\n"), om);
  }

  private static void assertHistogram(Exposition e, String name, long count, double sum) {
    assertEquals(count, e.value(name + "_count", "model_name=tiny"), name + " count");
    assertEquals(sum, e.value(name + "_sum", "model_name=tiny"), 1e-9, name + " sum");
  }
}
