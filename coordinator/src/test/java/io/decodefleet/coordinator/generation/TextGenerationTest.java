package io.decodefleet.coordinator.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.text.ByteTokenizer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One generation between a stand-in coordinator and its API: text, stop tokens, stop strings, cancels. */
class TextGenerationTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void startKit() {
    kit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    kit.shutdownTestKit();
  }

  private record Started(TestProbe<Coordinator.Command> coordinator, TestProbe<GenerationEvent> out,
      ActorRef<TextGeneration.Command> generation, ActorRef<SequenceEvent> fleet) {}

  private static Started start(SamplingParams sampling, List<String> stops) {
    TestProbe<Coordinator.Command> coordinator = kit.createTestProbe();
    TestProbe<GenerationEvent> out = kit.createTestProbe();
    GenerationRequest request = new GenerationRequest(new int[] {256, 72}, 32, sampling, stops, true);
    ActorRef<TextGeneration.Command> g = kit.spawn(TextGeneration.create(coordinator.getRef(), request,
        new ByteTokenizer(), 9, System.nanoTime(), out.getRef()));
    Coordinator.Submit submit = coordinator.expectMessageClass(Coordinator.Submit.class);
    assertEquals(9, submit.requestId());
    assertEquals(sampling, submit.sampling());
    return new Started(coordinator, out, g, submit.subscriber());
  }

  private static int[] bytes(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[b.length];
    for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
    return ids;
  }

  private static SequenceEvent tokens(int... ids) {
    return new SequenceEvent.Tokens(9, ids, "agent-0", System.nanoTime());
  }

  @Test
  void theStopTokenCountsButAddsNoTextAndTheReasonIsStop() {
    Started s = start(new SamplingParams(0f, 1f, 0, 0, new int[] {ByteTokenizer.EOS_ID}, 0), List.of());
    s.fleet.tell(tokens(bytes("hé")));
    s.fleet.tell(tokens(ByteTokenizer.EOS_ID));
    s.fleet.tell(new SequenceEvent.Finished(9, "agent-0", 0, VerifyResult.NOT_CHECKED, "stop", System.nanoTime()));
    StringBuilder text = new StringBuilder();
    GenerationEvent e;
    while (!((e = s.out.receiveMessage()) instanceof GenerationEvent.Done)) text.append(((GenerationEvent.Delta) e).text());
    GenerationEvent.Done done = (GenerationEvent.Done) e;
    assertEquals("hé", text.toString());
    assertEquals("stop", done.finishReason());
    assertEquals(4, done.completionTokens(), "h, the two bytes of é, and EOS");
    assertEquals(2, done.promptTokens());
    s.out.expectMessage(GenerationEvent.End.INSTANCE);
  }

  @Test
  void aStopStringSplitAcrossReportsEndsTheTextBeforeItAndCancelsTheSequence() {
    Started s = start(SamplingParams.GREEDY, List.of("END"));
    s.fleet.tell(tokens(bytes("abcE")));
    GenerationEvent.Delta first = s.out.expectMessageClass(GenerationEvent.Delta.class);
    assertEquals("abc", first.text(), "the E that may start END is held back");
    assertArrayEquals(bytes("abcE"), first.tokenIds());
    s.fleet.tell(tokens(bytes("ND!")));
    assertEquals("", s.out.expectMessageClass(GenerationEvent.Delta.class).text());
    Coordinator.Cancel cancel = s.coordinator.expectMessageClass(Coordinator.Cancel.class);
    assertEquals(9, cancel.requestId());
    assertEquals(s.fleet, cancel.subscriber());
    assertEquals("stop", s.out.expectMessageClass(GenerationEvent.Done.class).finishReason());
    s.out.expectMessage(GenerationEvent.End.INSTANCE);
  }

  @Test
  void aClientThatLeavesCancelsTheSequenceAndHearsNothingMore() {
    Started s = start(SamplingParams.GREEDY, List.of());
    s.fleet.tell(tokens(bytes("ab")));
    s.out.expectMessageClass(GenerationEvent.Delta.class);
    s.generation.tell(TextGeneration.ClientGone.INSTANCE);
    assertEquals(s.fleet, s.coordinator.expectMessageClass(Coordinator.Cancel.class).subscriber());
    s.out.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aFailureReachesTheApiWithItsKind() {
    Started s = start(SamplingParams.GREEDY, List.of());
    s.fleet.tell(new SequenceEvent.Failed(9, SequenceEvent.FailureKind.CAPACITY, "too long", System.nanoTime()));
    GenerationEvent.Failed f = s.out.expectMessageClass(GenerationEvent.Failed.class);
    assertEquals(SequenceEvent.FailureKind.CAPACITY, f.kind());
    s.out.expectMessage(GenerationEvent.End.INSTANCE);
  }
}
