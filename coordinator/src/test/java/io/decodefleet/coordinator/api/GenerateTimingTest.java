package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.generation.GenerationEvent;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.TextGeneration;
import io.decodefleet.coordinator.text.ByteTokenizer;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Generate call's summary timings against a stream whose tokens arrive at known times: TTFT, TPOT,
 * ITL and E2E each have their own expected value, so computing one as another fails here.
 */
class GenerateTimingTest {
  private static final long ARRIVAL = 5_000_000_000L; // an arbitrary System.nanoTime() origin
  private static ActorTestKit kit;

  @BeforeAll
  static void startKit() {
    kit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    kit.shutdownTestKit();
  }

  private static long at(double ms) {
    return ARRIVAL + Math.round(ms * 1_000_000);
  }

  /** Runs one call through the events (as the coordinator would send them) and returns its summary. */
  private static GenerateSummary summaryOf(SequenceEvent... events) {
    TestProbe<Coordinator.Command> coordinator = kit.createTestProbe();
    TestProbe<GenerationEvent> out = kit.createTestProbe();
    GenerationRequest request = new GenerationRequest(new int[7], 16, SamplingParams.GREEDY, List.of(), true);
    kit.spawn(TextGeneration.create(coordinator.getRef(), request, new ByteTokenizer(), 1, ARRIVAL, out.getRef()));
    ActorRef<SequenceEvent> subscriber = coordinator.expectMessageClass(Coordinator.Submit.class).subscriber();
    for (SequenceEvent e : events) subscriber.tell(e);
    GenerateEvents stream = new GenerateEvents();
    while (true) {
      GenerationEvent e = out.receiveMessage();
      GenerateEvent g = stream.next(e);
      if (g.hasSummary()) {
        out.expectMessage(GenerationEvent.End.INSTANCE);
        return g.getSummary();
      }
    }
  }

  private static SequenceEvent tokens(double ms, String agent, int... ids) {
    return new SequenceEvent.Tokens(1, ids, agent, at(ms));
  }

  @Test
  void summaryTimesTheFirstTokenTheLastTokenAndEveryGapApart() {
    GenerateSummary s = summaryOf(
        tokens(10, "agent-0", 11),         // first token 10 ms after the call arrived
        tokens(30, "agent-0", 12, 13),     // two tokens in one step report: a gap of 0
        new SequenceEvent.Migrated(1, "agent-0", "agent-1", "drained"),
        tokens(60, "agent-1", 14),         // last token at 60 ms
        new SequenceEvent.Finished(1, "agent-1", 0, VerifyResult.NOT_CHECKED, "length", at(75)));

    assertEquals(10.0, s.getTtftMs(), 1e-9, "first token arrival minus the call's arrival");
    assertEquals(60.0, s.getE2EMs(), 1e-9, "last token arrival, not the Finished event");
    assertEquals((60.0 - 10.0) / 3, s.getTpotMs(), 1e-9, "(E2E - TTFT) / (tokens - 1)");
    assertEquals(List.of(20.0, 0.0, 30.0), s.getItlMsList());
    assertEquals(4, s.getOutputTokens());
    assertEquals(7, s.getPromptTokens());
    assertEquals(List.of(11, 12, 13, 14), s.getOutputTokenIdsList());
    assertEquals("agent-1", s.getAgentId());
    assertEquals(1, s.getMigrations());
  }

  @Test
  void oneTokenHasNoTpotAndNoGaps() {
    GenerateSummary s = summaryOf(tokens(25, "agent-0", 3),
        new SequenceEvent.Finished(1, "agent-0", 0, VerifyResult.NOT_CHECKED, "length", at(30)));

    assertEquals(25.0, s.getTtftMs(), 1e-9);
    assertEquals(25.0, s.getE2EMs(), 1e-9);
    assertEquals(0.0, s.getTpotMs(), 0.0);
    assertEquals(List.of(), s.getItlMsList());
  }
}
