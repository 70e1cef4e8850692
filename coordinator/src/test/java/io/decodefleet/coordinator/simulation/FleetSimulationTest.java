package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.AgentStats;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.WorkloadSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetSimulationTest {
  private static final ModelSpec TINY = new ModelSpec("tiny", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);

  private static SweepPoint simulate(int gpus, ParallelLayout layout, List<RequestSpec> requests, String placement,
      StepCalibration cal, List<AgentFailure> failures) {
    return new FleetSimulation(new SimulationSpec(gpus, layout, TINY, requests, placement, 0, cal, null, failures,
        2_000_000)).run(null);
  }

  private static RequestSpec request(long id, long arrivalNanos, int promptLength, int maxTokens) {
    int[] prompt = new int[promptLength];
    for (int i = 0; i < promptLength; i++) prompt[i] = (int) ((id * 31 + i) % 1000);
    return new RequestSpec(id, arrivalNanos, prompt, maxTokens);
  }

  /** The spec's requests within tiny's context of 2048 tokens (none of these workloads comes near it). */
  private static List<RequestSpec> generated(WorkloadSpec spec, long seed) {
    try {
      return spec.requests(1024, LengthLimit.context("tiny", 2048), OverlengthPolicy.ERROR, seed).requests();
    } catch (io.decodefleet.coordinator.workload.OverlengthException e) {
      throw new AssertionError(e);
    }
  }

  private static List<RequestSpec> workload(int n, String rate, long seed) {
    ArrivalProcess arrivals = rate.equals("inf") ? new ArrivalProcess.AllAtOnce()
        : new ArrivalProcess.Rate(Double.parseDouble(rate), 1.0);
    return generated(new WorkloadSpec(n, LengthDistribution.parse("32:200"), LengthDistribution.parse("4:40"), arrivals,
        0), seed);
  }

  @Test
  void aHostSlowedByAFactorTakesThatMuchLongerForEveryStep() {
    StepCalibration cpuTiny = CalibrationFile.load("cpu-tiny");
    StepCalibration slower = cpuTiny.withHost(cpuTiny.host().slowedBy(2, "twice as slow"), null);
    assertEquals(2 * cpuTiny.host().stepInflation(), slower.host().stepInflation(), 1e-12);
    assertEquals(2 * cpuTiny.host().stepCpuMicros(), slower.host().stepCpuMicros(), 1e-9);
    assertTrue(slower.host().measuredBy().endsWith("; twice as slow"), slower.host().measuredBy());
    assertThrows(IllegalArgumentException.class, () -> cpuTiny.host().slowedBy(0, "never"));
    List<RequestSpec> lone = List.of(request(0, 0, 100, 8));
    RequestRecord asCalibrated = simulate(1, ParallelLayout.DATA_PARALLEL, lone, "least-loaded", cpuTiny, List.of())
        .requests().get(0);
    RequestRecord halfSpeed = simulate(1, ParallelLayout.DATA_PARALLEL, lone, "least-loaded", slower, List.of())
        .requests().get(0);
    // cpu-tiny's messages take no time: every part of a lone request's times is steps.
    assertEquals(2 * asCalibrated.ttftMs(), halfSpeed.ttftMs(), 1e-6 * asCalibrated.ttftMs());
    assertEquals(2 * asCalibrated.tpotMs(), halfSpeed.tpotMs(), 1e-6 * asCalibrated.tpotMs());
  }

  @Test
  void aLoneRequestTakesItsPrefillThenOneDecodeStepPerToken() {
    SweepPoint p = simulate(1, ParallelLayout.DATA_PARALLEL, List.of(request(0, 0, 100, 5)), "least-loaded",
        Calibrations.roundNumbers(0, 0), List.of());
    RequestRecord r = p.requests().get(0);
    // Prefill of 100 tokens: P(100) = 5 ms; then decodes at contexts 101..104: D(1, c) = 1000 + (c - 100) µs.
    assertEquals(5.0, r.ttftMs(), 1e-6);
    assertEquals(List.of(5.0, 6.001, 7.003, 8.006, 9.010), r.tokenArrivalsMs().stream()
        .map(t -> Math.round(t * 1e6) / 1e6).toList());
    assertEquals(4.010 / 4, r.tpotMs(), 1e-6);
    assertEquals(9.010e-3, p.result().durationSeconds(), 1e-9);
  }

  @Test
  void sequencesArrivingTogetherShareTheIdleAgentsFirstStep() {
    // Three prompts of 100 tokens reach the idle agent at one instant. The engine takes in its whole inbox
    // before it schedules, so one step prefills all three: P(0) + 3 × (P(100) − P(0)) = 1000 + 3 × 4000 µs
    // (not the first alone in 5 ms and the other two after it).
    List<RequestSpec> three = List.of(request(0, 0, 100, 1), request(1, 0, 100, 1), request(2, 0, 100, 1));
    SweepPoint p = simulate(1, ParallelLayout.DATA_PARALLEL, three, "least-loaded", Calibrations.roundNumbers(0, 0),
        List.of());
    for (RequestRecord r : p.requests()) assertEquals(13.0, r.ttftMs(), 1e-6, "request " + r.requestId());
    assertEquals(1, p.engine().reportedSteps());
  }

  @Test
  void messagesToAndFromTheAgentAddTheirTimesToTheFirstToken() {
    SweepPoint p = simulate(1, ParallelLayout.DATA_PARALLEL, List.of(request(0, 0, 100, 2)), "least-loaded",
        Calibrations.roundNumbers(0, 250), List.of());
    // dispatch 250 µs + prefill 5000 µs + report 250 µs; the second token one decode step later.
    assertEquals(5.5, p.requests().get(0).ttftMs(), 1e-6);
    assertEquals(1.001, p.requests().get(0).tpotMs(), 1e-6);
    // The agent's own account: no wait on the idle agent, the prefill step; the messages are the rest.
    assertEquals(0.0, p.requests().get(0).queueMs(), 1e-9);
    assertEquals(5.0, p.requests().get(0).prefillMs(), 1e-9);
  }

  @Test
  void everyRequestProducesExactlyItsMaxTokensAndTheSameSeedGivesTheSameRun() {
    List<RequestSpec> requests = workload(200, "50", 7);
    SweepPoint a = simulate(4, ParallelLayout.DATA_PARALLEL, requests, "least-loaded", Calibrations.roundNumbers(0, 100),
        List.of());
    SweepPoint b = simulate(4, ParallelLayout.DATA_PARALLEL, requests, "least-loaded", Calibrations.roundNumbers(0, 100),
        List.of());
    assertEquals(200, a.result().completed());
    assertEquals(requests.stream().mapToLong(RequestSpec::maxTokens).sum(), a.result().totalOutputTokens());
    assertEquals(a.requests(), b.requests());
    assertEquals(4, a.result().agents().size());
  }

  @Test
  void roundRobinPlacementSpreadsRequestsEvenly() {
    SweepPoint p = simulate(4, ParallelLayout.DATA_PARALLEL, workload(40, "inf", 1), "round-robin",
        Calibrations.roundNumbers(0, 0), List.of());
    for (AgentStats a : p.result().agents()) assertEquals(10, a.requests(), a.agentId());
  }

  @Test
  void agentsSharingHostCoresSlowEachOtherDown() {
    // Two requests on two agents at once: alone each takes 5 ms of prefill; on one shared core both take 10.
    List<RequestSpec> two = List.of(request(0, 0, 100, 1), request(1, 0, 100, 1));
    SweepPoint own = simulate(2, ParallelLayout.DATA_PARALLEL, two, "least-loaded", Calibrations.roundNumbers(0, 0),
        List.of());
    SweepPoint shared = simulate(2, ParallelLayout.DATA_PARALLEL, two, "least-loaded", Calibrations.roundNumbers(1, 0),
        List.of());
    assertEquals(5.0, own.requests().get(1).ttftMs(), 1e-6);
    assertEquals(10.0, shared.requests().get(0).ttftMs(), 1e-6);
    assertEquals(10.0, shared.requests().get(1).ttftMs(), 1e-6);
  }

  @Test
  void eachStepsCostToTheHostsOtherThreadsSlowsAFullHostOnly() {
    List<RequestSpec> two = List.of(request(0, 0, 100, 1), request(1, 0, 100, 1));
    // 2 cores, and each step costs the other threads 5000 µs besides its own 5000 µs of prefill: two steps at
    // once want 2 × (1 + 5000 / 5000) = 4 cores' worth of the 2, so each runs at half speed.
    StepCalibration perStep = Calibrations.roundNumbers(2, 0).withHost(
        new StepCalibration.HostSharing(2, 0, 0, 1, "", 5000), null);
    SweepPoint p = simulate(2, ParallelLayout.DATA_PARALLEL, two, "least-loaded", perStep, List.of());
    assertEquals(10.0, p.requests().get(0).ttftMs(), 1e-6);
    assertEquals(10.0, p.requests().get(1).ttftMs(), 1e-6);
    // Alone, the step's 1 + 1 cores' worth fits the 2: full speed (its report is handled on the other core).
    assertEquals(5.0, simulate(1, ParallelLayout.DATA_PARALLEL, List.of(request(0, 0, 100, 1)), "least-loaded",
        perStep, List.of()).requests().get(0).ttftMs(), 1e-6);
    // Without the cost, two steps on two cores run at full speed.
    assertEquals(5.0, simulate(2, ParallelLayout.DATA_PARALLEL, two, "least-loaded", Calibrations.roundNumbers(2, 0),
        List.of()).requests().get(1).ttftMs(), 1e-6);
  }

  @Test
  void theHostsOtherThreadsAndIdleAgentNodesTakeTheirShareOfTheCores() {
    List<RequestSpec> two = List.of(request(0, 0, 100, 1), request(1, 0, 100, 1));
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    // 2 cores; the other threads take 1 s per engine second: the two engines have 1 core between them.
    StepCalibration busy = base.withHost(new StepCalibration.HostSharing(2, 1.0, 0, 1, ""), null);
    assertEquals(10.0, simulate(2, ParallelLayout.DATA_PARALLEL, two, "least-loaded", busy, List.of()).requests()
        .get(0).ttftMs(), 1e-6);
    // Each of 4 agent nodes keeps 0.25 of a core busy: a run on 2 of them has 1 core for its engines.
    StepCalibration nodes = base.withHost(new StepCalibration.HostSharing(2, 0, 0.25, 1, ""), null);
    SweepPoint p = new FleetSimulation(new SimulationSpec(2, ParallelLayout.DATA_PARALLEL, TINY, two, "least-loaded",
        0, nodes, null, List.of(), 0, 4)).run(null);
    assertEquals(10.0, p.requests().get(1).ttftMs(), 1e-6);
    // A step in the cluster's JVM taking 1.5 times the bench's: one request alone prefills in 7.5 ms.
    StepCalibration slower = base.withHost(new StepCalibration.HostSharing(2, 0, 0, 1.5, ""), null);
    assertEquals(7.5, simulate(1, ParallelLayout.DATA_PARALLEL, List.of(request(0, 0, 100, 1)), "least-loaded",
        slower, List.of()).requests().get(0).ttftMs(), 1e-6);
    // A bench timed while the host was busier than the cluster's run: its steps take 0.9 of the bench's.
    StepCalibration faster = base.withHost(new StepCalibration.HostSharing(2, 0, 0, 0.9, ""), null);
    assertEquals(4.5, simulate(1, ParallelLayout.DATA_PARALLEL, List.of(request(0, 0, 100, 1)), "least-loaded",
        faster, List.of()).requests().get(0).ttftMs(), 1e-6);
  }

  @Test
  void aLostAgentsSequencesAreReplacedWithTheirTokensSoFarAndNoneIsLostOrDuplicated() {
    List<RequestSpec> requests = workload(60, "inf", 3);
    SweepPoint p = simulate(3, ParallelLayout.DATA_PARALLEL, requests, "least-loaded", Calibrations.roundNumbers(0, 50),
        List.of(AgentFailure.parse("agent-1@150ms")));
    assertEquals(60, p.result().completed());
    for (RequestRecord r : p.requests()) {
      int max = requests.stream().filter(q -> q.requestId() == r.requestId()).findFirst().orElseThrow().maxTokens();
      assertEquals(max, r.outputTokens(), "request " + r.requestId());
      if (r.migrations() > 0) assertTrue(!"agent-1".equals(r.agentId()), "request " + r.requestId() + " ended on agent-1");
    }
    assertTrue(p.result().migrations() > 0);
    assertEquals(1, p.engine().agentsLost());
    assertEquals(p.result().migrations(), p.engine().migrations());
    // The coordinator noticed 2 ms after the loss: a moved request's tokens pause at least that long.
    RequestRecord moved = p.requests().stream().filter(r -> r.migrations() > 0 && r.outputTokens() > 1
        && r.tokenArrivalsMs().get(0) < 150).findFirst().orElseThrow();
    double longest = 0;
    for (double gap : moved.itlMs()) longest = Math.max(longest, gap);
    assertTrue(longest >= 2.0, "longest gap " + longest);
  }

  @Test
  void prefixAwarePlacementFindsTheSharedPrefixesRoundRobinScatters() {
    ModelSpec caching = new ModelSpec("tiny", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.ON);
    List<RequestSpec> requests = generated(new WorkloadSpec(128, LengthDistribution.parse("32"),
        LengthDistribution.parse("8"), new ArrivalProcess.Rate(100, 1.0), 0,
        new io.decodefleet.coordinator.workload.SharedPrefixes(8, 256)), 4);
    double[] hitRate = new double[2];
    String[] policies = {"round-robin", "prefix-aware"};
    for (int i = 0; i < 2; i++) {
      SweepPoint p = new FleetSimulation(new SimulationSpec(4, ParallelLayout.DATA_PARALLEL, caching, requests,
          policies[i], 0, Calibrations.roundNumbers(0, 0), null, List.of(), 0)).run(null);
      assertEquals(128, p.result().completed());
      hitRate[i] = (double) p.engine().prefixHitTokens() / p.engine().prefixQueriedTokens();
    }
    // 8 prefixes of 256 tokens on 4 agents: prefix-aware prefills each prefix about once, round-robin on every agent.
    assertTrue(hitRate[1] > hitRate[0] + 0.05, "prefix-aware " + hitRate[1] + " vs round-robin " + hitRate[0]);
  }

  @Test
  void promptsArrivingTogetherWaitForTheSharedPrefixTheFirstIsPrefillingInsteadOfPrefillingItAgain() {
    ModelSpec caching = new ModelSpec("tiny", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.ON);
    List<RequestSpec> requests = generated(new WorkloadSpec(16, LengthDistribution.parse("32"),
        LengthDistribution.parse("8"), new ArrivalProcess.AllAtOnce(), 0,
        new io.decodefleet.coordinator.workload.SharedPrefixes(1, 768)), 4);
    SweepPoint p = new FleetSimulation(new SimulationSpec(1, ParallelLayout.DATA_PARALLEL, caching, requests,
        "least-loaded", 0, Calibrations.roundNumbers(0, 0), null, List.of(), 0)).run(null);
    assertEquals(16, p.result().completed());
    // 512 tokens a step: the first prompt's 768-token prefix takes two steps. In the second the others find
    // half of it cached and the rest being prefilled, so the engine's scheduler holds them back (in-batch
    // prefix deferral) rather than have them prefill it again: each then finds all 768 tokens cached.
    assertEquals(15, p.engine().prefixDeferredAdmissions());
    assertEquals(15 * 768, p.engine().prefixHitTokens());
  }

  @Test
  void aConversationsLaterTurnsAreReleasedWhenTheEarlierOnesEnd() {
    List<RequestSpec> requests = generated(new WorkloadSpec(10, LengthDistribution.parse("40"),
        LengthDistribution.parse("6"), new ArrivalProcess.AllAtOnce(), 0,
        io.decodefleet.coordinator.workload.SharedPrefixes.NONE, 3), 2);
    assertEquals(30, requests.size());
    SweepPoint p = simulate(2, ParallelLayout.DATA_PARALLEL, requests, "least-loaded", Calibrations.roundNumbers(0, 0),
        List.of());
    assertEquals(30, p.result().completed());
    for (RequestSpec r : requests) {
      if (!r.followsTurn()) continue;
      RequestRecord later = p.requests().stream().filter(q -> q.requestId() == r.requestId()).findFirst().orElseThrow();
      RequestRecord earlier = p.requests().stream().filter(q -> q.requestId() == r.previousTurn()).findFirst()
          .orElseThrow();
      // Released once the earlier turn's last token arrived; its prompt holds that turn's prompt and output.
      assertEquals(earlier.releasedMs() + earlier.e2eMs(), later.releasedMs(), 1e-6);
      assertEquals(earlier.promptTokens() + earlier.outputTokens() + 40, later.promptTokens());
    }
  }

  @Test
  void aFailureNamingAnAgentTheFleetDoesNotHaveIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FleetSimulation(
        new SimulationSpec(2, ParallelLayout.DATA_PARALLEL, TINY, workload(4, "inf", 1), "least-loaded", 0,
            Calibrations.roundNumbers(0, 0), null, List.of(AgentFailure.parse("agent-5@1s")), 0)));
    assertEquals("--fail-agent agent-5@1.000s: the fleet of 2 GPUs has agents agent-0 to agent-1", e.getMessage());
  }

  @Test
  void disaggregatedPrefillHandsEachSequencesKvToADecodeAgentInTheTransferTime() {
    ParallelLayout disagg = new ParallelLayout.Disaggregated(1, 1, KvTransferMode.EAGER);
    SweepPoint p = simulate(2, disagg, List.of(request(0, 0, 100, 3)), "least-loaded",
        Calibrations.roundNumbers(0, 0), List.of());
    RequestRecord r = p.requests().get(0);
    assertEquals(5.0, r.ttftMs(), 1e-6); // prefilled on agent-0
    assertEquals("agent-1", r.agentId());
    // The second token: the KV of 100 tokens moves (100 + 100 x 0.01 = 101 µs), then a decode at context 101.
    assertEquals(5.0 + 0.101 + 1.001, r.tokenArrivalsMs().get(1), 1e-6);
    assertEquals(1, p.engine().kvTransfers().count());
  }

  @Test
  void aLostDecodeAgentBreaksTheKvGroupAndTheRestIsPlacedDataParallelLosingNoToken() {
    List<RequestSpec> requests = workload(80, "200", 9);
    SweepPoint p = simulate(4, new ParallelLayout.Disaggregated(2, 2, KvTransferMode.EAGER), requests, "least-loaded",
        Calibrations.roundNumbers(0, 50), List.of(AgentFailure.parse("agent-3@100ms")));
    assertEquals(80, p.result().completed());
    assertEquals(requests.stream().mapToLong(RequestSpec::maxTokens).sum(), p.result().totalOutputTokens());
    assertTrue(p.engine().kvTransfers().group().startsWith("broken"), p.engine().kvTransfers().group());
    assertTrue(p.engine().kvTransfers().count() > 0);
    // After the break the prefill agents decode too: some request ends on agent-0 or agent-1.
    assertTrue(p.requests().stream().anyMatch(r -> "agent-0".equals(r.agentId()) || "agent-1".equals(r.agentId())));
  }

  @Test
  void aTensorParallelFleetHasOneAgentPerKGpusWithScaledSteps() {
    SweepPoint p = simulate(4, new ParallelLayout.TensorParallel(2), List.of(request(0, 0, 100, 2)), "least-loaded",
        Calibrations.roundNumbers(0, 0), List.of());
    assertEquals(2, p.agents().size());
    assertEquals(4, p.worldSize());
    // D(1, 101) = 1001 µs on one device: 1001 / (2 x 0.8) + 2 x 4 x 5 on two.
    assertEquals((1001 / 1.6 + 40) / 1e3, p.requests().get(0).tpotMs(), 1e-6);
  }

  @Test
  void anExpertParallelFleetHasOneAgentPerKDevicesAndReadsItsOwnTable() {
    ModelSpec moe = new ModelSpec("tiny-moe", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);
    SweepPoint p = new FleetSimulation(new SimulationSpec(4, new ParallelLayout.ExpertParallel(2), moe,
        List.of(request(0, 0, 100, 2)), "least-loaded", 0, Calibrations.tinyMoe(0, true), null, List.of(), 0))
        .run(null);
    assertEquals(2, p.agents().size());
    // The ep=2 table: P(100) = 5000 / 2 + 500, D(1, 101) = 1001 / 2 + 500 (the dp table would give 5000 and 1001).
    assertEquals(3.0, p.requests().get(0).ttftMs(), 1e-6);
    assertEquals(1.0005, p.requests().get(0).tpotMs(), 1e-6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FleetSimulation(
        new SimulationSpec(2, new ParallelLayout.ExpertParallel(2), moe, List.of(request(0, 0, 100, 2)),
            "least-loaded", 0, Calibrations.tinyMoe(0, false), null, List.of(), 0)));
    assertTrue(e.getMessage().startsWith("the calibration has no ep=2 table"), e.getMessage());
  }

  @Test
  void anExpertParallelReplicaOfCpuRanksWantsACoreForEachRank() {
    ModelSpec moe = new ModelSpec("tiny-moe", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);
    List<RequestSpec> one = List.of(request(0, 0, 100, 1));
    // Its table was measured with a core for each of its 2 rank threads: 2 cores run it at full speed, 1 at half.
    SweepPoint two = new FleetSimulation(new SimulationSpec(2, new ParallelLayout.ExpertParallel(2), moe, one,
        "least-loaded", 0, Calibrations.tinyMoe(2, true), null, List.of(), 0)).run(null);
    SweepPoint single = new FleetSimulation(new SimulationSpec(2, new ParallelLayout.ExpertParallel(2), moe, one,
        "least-loaded", 0, Calibrations.tinyMoe(1, true), null, List.of(), 0)).run(null);
    assertEquals(3.0, two.requests().get(0).ttftMs(), 1e-6);
    assertEquals(6.0, single.requests().get(0).ttftMs(), 1e-6);
  }

  @Test
  void anExpertParallelStepWantsItsMeasuredBusyCoresOverOneEnginesAndKWhereTheyWereNotMeasured() {
    StepCalibration.LayoutTable dp = new StepCalibration.LayoutTable(1, "cpu", false, Calibrations.DECODE,
        Calibrations.PREFILL, false, 1.05);
    StepCalibration.LayoutTable ep = new StepCalibration.LayoutTable(2, "cpu", false, Calibrations.DECODE,
        Calibrations.PREFILL, true, 1.575);
    StepCalibration measured = Calibrations.forModel("tiny-moe", 1, 0, List.of(dp, ep));
    assertEquals(1.5, FleetSimulation.coresPerStep(measured, StepTimeModel.of(measured, true, 2, null), 2, null), 1e-9);
    assertEquals(1.0, FleetSimulation.coresPerStep(measured, StepTimeModel.of(measured, false, 1, null), 1, null));
    StepCalibration unmeasured = Calibrations.tinyMoe(1, true);
    assertEquals(2.0, FleetSimulation.coresPerStep(unmeasured, StepTimeModel.of(unmeasured, true, 2, null), 2, null));
    // On one core a step wanting 1.5 runs at 1 / 1.5 of its speed: P(100) = 5000 µs takes 7.5 ms.
    ModelSpec moe = new ModelSpec("tiny-moe", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);
    SweepPoint p = new FleetSimulation(new SimulationSpec(2, new ParallelLayout.ExpertParallel(2), moe,
        List.of(request(0, 0, 100, 1)), "least-loaded", 0, measured, null, List.of(), 0)).run(null);
    assertEquals(7.5, p.requests().get(0).ttftMs(), 1e-6);
  }

  @Test
  void preemptionUnderKvPressureStillFinishesEveryRequest() {
    // 40 blocks of 16 tokens per agent: sequences of up to 240 tokens crowd each other out.
    ModelSpec small = new ModelSpec("tiny", 0, 16, 40, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);
    List<RequestSpec> requests = new ArrayList<>(workload(30, "inf", 5));
    SweepPoint p = new FleetSimulation(new SimulationSpec(1, ParallelLayout.DATA_PARALLEL, small, requests,
        "least-loaded", 0, Calibrations.roundNumbers(0, 0), null, List.of(), 0)).run(null);
    assertEquals(30, p.result().completed());
    assertTrue(p.engine().preemptions() > 0, "no preemption: the test does not test it");
    assertEquals(Arrays.stream(requests.toArray(RequestSpec[]::new)).mapToLong(RequestSpec::maxTokens).sum(),
        p.result().totalOutputTokens());
  }
}
