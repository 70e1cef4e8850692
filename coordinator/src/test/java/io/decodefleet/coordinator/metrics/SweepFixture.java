package io.decodefleet.coordinator.metrics;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sweeps built the way the coordinator builds them: a {@link MetricsRecorder} fed with token
 * arrivals, then summarised. The workload is the same at every world size (same requests, same
 * lengths); more agents shorten the queueing part of TTFT and the run, and cost a little TPOT.
 */
public final class SweepFixture {

  /** Requests per run. */
  public static final int REQUESTS = 24;

  /** An arbitrary System.nanoTime() origin: nothing may assume the clock starts at 0. */
  private static final long T0 = 1_234_567_000_000L;

  private SweepFixture() {}

  public static long ms(double millis) {
    return T0 + Math.round(millis * 1_000_000);
  }

  /**
   * One run at {@code worldSize}: request i (prompt 10 + 3i tokens, 1 + i % 7 output tokens, the
   * one-token ones have no TPOT) goes to agent i % worldSize; tokens arrive two per report every
   * other step. At world size 4, request 5 fails after its first token (its agent left), so
   * failures and partial records show up in the reports.
   */
  public static MetricsRecorder run(int worldSize) {
    MetricsRecorder m = new MetricsRecorder();
    for (int i = 0; i < REQUESTS; i++) {
      m.requestReleased(i, 10 + 3 * i, 16, ms(i));
    }
    for (int i = 0; i < REQUESTS; i++) {
      String agent = "agent-" + (i % worldSize);
      double ttft = 20 + 120.0 / worldSize * (i % 5) + 0.37 * i;
      double tpot = 8 + 0.5 * worldSize + 0.11 * (i % 3);
      int tokens = 1 + i % 7;
      double t = i + ttft;
      m.tokensArrived(i, agent, 1, ms(t));
      if (worldSize == 4 && i == 5) {
        m.requestFailed(i, "agent-1 left the cluster, \"unreachable\"", ms(t + 1));
        continue;
      }
      int sent = 1;
      while (sent < tokens) {
        int batch = Math.min(sent % 3 == 0 ? 2 : 1, tokens - sent);
        t += tpot * batch;
        m.tokensArrived(i, agent, batch, ms(t));
        sent += batch;
      }
      // Odd requests carry their agent's queue time; even ones leave it unknown.
      if (i % 2 == 1) {
        m.requestFinished(i, "length", (long) (ttft / 4 * 1e6), ms(t));
      } else {
        m.requestFinished(i, ms(t));
      }
    }
    return m;
  }

  /**
   * The run at {@code worldSize} as a sweep point, with engine totals (no device times measured: a
   * CPU run), agent descriptions and, beyond world size 1, a passed verification.
   */
  public static SweepPoint point(int worldSize) {
    MetricsRecorder m = run(worldSize);
    BenchmarkResult result = m.summarize(ms(0), ms(runMillis(worldSize)));
    EngineTotals engine = new EngineTotals(100 / worldSize, 2400, 7.25, 0,
        List.of(new EngineTotals.BatchBucketSteps(8, 100 / worldSize, 7.25)), Map.of("eager", 100L / worldSize), 210.5,
        null, null, 0, 0, 0, 0, null);
    List<AgentDescription> agents = new ArrayList<>();
    for (int a = 0; a < worldSize; a++) {
      agents.add(new AgentDescription("agent-" + a, "cpu:" + a, "cpu", "pekko://decodefleet@127.0.0.1:2552", true,
          512, 16, ""));
    }
    VerificationSummary verification = worldSize == 1 ? null
        : new VerificationSummary(true, 6, 0, 1e-6, 1e-3, List.of());
    return SweepPoint.of(worldSize, result, m.requests(), engine, verification, agents);
  }

  /** How long the run at {@code worldSize} lasts, ms: shorter with more agents. */
  static double runMillis(int worldSize) {
    return 400 + 1200.0 / worldSize;
  }

  /**
   * A client-mode sweep against an OpenAI endpoint over {@code values} of {@code axis}: the run of
   * one agent at each, the i-th value taking as long as world size i + 1 does, so the points differ.
   */
  public static SweepReport clientSweep(SweepAxis axis, double... values) {
    List<SweepPoint> points = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      MetricsRecorder m = run(1);
      points.add(SweepPoint.on(axis, values[i], m.summarize(ms(0), ms(runMillis(i + 1))), m.requests(), null, null,
          null));
    }
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("endpoint", "http://127.0.0.1:8000/v1");
    settings.put("seed", 42);
    return new SweepReport("coordinator --endpoint http://127.0.0.1:8000/v1 --served-model m", settings, Map.of(),
        "test machine, 2 logical cores", "endpoint", "m", "2025-06-01T12:00:00Z", null, points,
        new EndpointDescription("http://127.0.0.1:8000/v1", "m"));
  }

  /** A sweep over {@code worldSizes} with the given SLOs (null: none). */
  public static SweepReport sweep(SloSpec goodput, int... worldSizes) {
    List<SweepPoint> points = new ArrayList<>();
    for (int worldSize : worldSizes) {
      points.add(point(worldSize));
    }
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("model", "tiny");
    settings.put("num_requests", REQUESTS);
    settings.put("seed", 42);
    ArrayNode sizes = settings.putArray("world_sizes");
    Arrays.stream(worldSizes).forEach(sizes::add);
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put("decodefleet", "0.1.0-test");
    versions.put("java", "17");
    return new SweepReport("coordinator --world-size 1,2,4 --seed 42", settings, versions,
        "test machine, 2 logical cores", "cpu", "tiny", "2025-06-01T12:00:00Z", goodput, points);
  }
}
