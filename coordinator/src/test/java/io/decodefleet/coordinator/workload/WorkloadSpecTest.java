package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The workload both the CLI and the API build: defaults that parse, and the generator's requests. */
class WorkloadSpecTest {
  private static final LengthLimit CONTEXT = LengthLimit.context("tiny", 2048);

  private static WorkloadSpec defaults(int numRequests) {
    return new WorkloadSpec(numRequests, LengthDistribution.parse(WorkloadSpec.DEFAULT_PROMPT_LEN),
        LengthDistribution.parse(WorkloadSpec.DEFAULT_OUTPUT_LEN), new ArrivalProcess.AllAtOnce(), 0);
  }

  @Test
  void defaultLengthsGiveRequestsWithinTheirRanges() throws Exception {
    List<RequestSpec> requests = defaults(WorkloadSpec.DEFAULT_NUM_REQUESTS).requests(1024, CONTEXT,
        OverlengthPolicy.ERROR, 7).requests();
    assertEquals(64, requests.size());
    for (RequestSpec r : requests) {
      assertTrue(r.promptTokens().length >= 32 && r.promptTokens().length <= 256, r.toString());
      assertTrue(r.maxTokens() >= 16 && r.maxTokens() <= 128, r.toString());
    }
  }

  @Test
  void requestsAreTheGeneratorsForTheSameSeed() throws Exception {
    WorkloadSpec spec = defaults(5);
    List<RequestSpec> direct = WorkloadGenerator.generate(5, spec.arrivals(), spec.promptLen(), spec.outputLen(), 1024,
        2048, 3);
    List<RequestSpec> viaSpec = spec.requests(1024, CONTEXT, OverlengthPolicy.ERROR, 3).requests();
    for (int i = 0; i < 5; i++) {
      assertEquals(direct.get(i).maxTokens(), viaSpec.get(i).maxTokens());
      assertEquals(List.of(direct.get(i).promptTokens().length), List.of(viaSpec.get(i).promptTokens().length));
    }
  }

  @Test
  void noRequestsOrNegativeConcurrencyIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> defaults(0));
    assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(1, new LengthDistribution.Fixed(4),
        new LengthDistribution.Fixed(4), new ArrivalProcess.AllAtOnce(), -1));
  }

  private static WorkloadSpec spec(int n, String prompt, String output, SharedPrefixes prefixes, int turns) {
    return new WorkloadSpec(n, LengthDistribution.parse(prompt), LengthDistribution.parse(output),
        new ArrivalProcess.AllAtOnce(), 0, prefixes, turns);
  }

  private static OverlengthException refused(WorkloadSpec spec, LengthLimit limit, OverlengthPolicy policy) {
    return assertThrows(OverlengthException.class, () -> spec.requests(1024, limit, policy, 1));
  }

  @Test
  void theLongestDrawOfABoundedLengthIsCheckedUpFrontWhateverThePolicy() {
    OverlengthException prompt = refused(spec(1, "999999", "16:128", SharedPrefixes.NONE, 1), CONTEXT,
        OverlengthPolicy.SKIP);
    assertEquals(OverlengthException.Setting.PROMPT_LEN, prompt.setting());
    assertEquals("a 999999-token prompt plus up to 128 output tokens exceeds model tiny's context of 2048 tokens",
        prompt.getMessage());
    assertFalse(prompt.perRequest());
    OverlengthException output = refused(spec(2, "32:256", "3000", SharedPrefixes.NONE, 1), CONTEXT,
        OverlengthPolicy.SKIP);
    assertEquals(OverlengthException.Setting.OUTPUT_LEN, output.setting());
    assertEquals("a 256-token prompt plus up to 3000 output tokens exceeds model tiny's context of 2048 tokens",
        output.getMessage());
    OverlengthException turns = refused(spec(1, "100", "100", SharedPrefixes.NONE, 12), CONTEXT,
        OverlengthPolicy.ERROR);
    assertEquals(OverlengthException.Setting.TURNS, turns.setting());
    assertEquals("turn 12 of a conversation: a 2300-token prompt plus up to 100 output tokens exceeds model tiny's "
        + "context of 2048 tokens", turns.getMessage());
    assertEquals(OverlengthException.Setting.PREFIX_LEN,
        refused(spec(1, "1", "1", new SharedPrefixes(2, 2047), 1), CONTEXT, OverlengthPolicy.ERROR).setting());
    OverlengthException pool = refused(spec(1, "100", "50", SharedPrefixes.NONE, 1), CONTEXT.withKvPool(8, 16),
        OverlengthPolicy.SKIP);
    assertEquals(OverlengthException.Setting.OUTPUT_LEN, pool.setting());
    assertEquals("a 100-token prompt plus up to 50 output tokens needs 10 KV blocks of 16 tokens; the largest agent's "
        + "KV pool holds 8", pool.getMessage());
  }

  @Test
  void drawsOfALognormalAreJudgedOneByOneAndSkippedOnesAreLeftOutWholeNeverCut() throws Exception {
    WorkloadSpec tail = spec(50, "lognormal:1500:1", "8", SharedPrefixes.NONE, 1);
    OverlengthException e = refused(tail, CONTEXT, OverlengthPolicy.ERROR);
    assertEquals(OverlengthException.Setting.PROMPT_LEN, e.setting());
    assertTrue(e.perRequest());
    assertTrue(e.getMessage().matches("request \\d+: a \\d+-token prompt plus up to 8 output tokens exceeds model "
        + "tiny's context of 2048 tokens"), e.getMessage());

    Workload skipped = tail.requests(1024, CONTEXT, OverlengthPolicy.SKIP, 1);
    // The same draws with room for all of them: each kept request is one of those, as drawn.
    Workload all = tail.requests(1024, LengthLimit.context("tiny", Integer.MAX_VALUE), OverlengthPolicy.ERROR, 1);
    List<Long> over = all.requests().stream().filter(r -> r.promptTokens().length + 8 > 2048)
        .map(RequestSpec::requestId).toList();
    assertTrue(!over.isEmpty() && over.size() < 50, over.toString());
    assertEquals(over.size(), skipped.skipped());
    assertEquals(50, skipped.drawn());
    for (RequestSpec kept : skipped.requests()) {
      assertFalse(over.contains(kept.requestId()));
      assertEquals(all.requests().get((int) kept.requestId()).promptTokens().length, kept.promptTokens().length);
      assertEquals(8, kept.maxTokens());
    }
  }

  @Test
  void aConversationThatOutgrowsTheLimitIsRefusedOrLosesItsTurnsFromThere() throws Exception {
    WorkloadSpec talk = spec(20, "lognormal:300:0.3", "100", SharedPrefixes.NONE, 5);
    OverlengthException e = refused(talk, CONTEXT, OverlengthPolicy.ERROR);
    assertEquals(OverlengthException.Setting.TURNS, e.setting());
    assertTrue(e.getMessage().matches("turn [2-5] of conversation \\d+: a \\d+-token prompt plus up to 100 output "
        + "tokens exceeds model tiny's context of 2048 tokens"), e.getMessage());

    Workload w = talk.requests(1024, CONTEXT, OverlengthPolicy.SKIP, 1);
    assertEquals(100, w.drawn());
    assertTrue(w.skipped() > 0 && w.skipped() < 80, "skipped " + w.skipped());
    // Every kept turn's earlier turns are kept: the schedule can release them all.
    ReleaseSchedule schedule = new ReleaseSchedule(w.requests(), 0);
    assertTrue(schedule.release(0, 0).size() >= 1);
    java.util.Map<Long, Long> whole = new java.util.HashMap<>(); // id → prompt + output so far
    for (RequestSpec r : w.requests()) {
      long before = r.followsTurn() ? whole.get(r.previousTurn()) : 0;
      long total = before + r.promptTokens().length + r.maxTokens();
      assertTrue(total <= 2048, r.requestId() + " reaches " + total);
      whole.put(r.requestId(), total);
    }
  }
}
