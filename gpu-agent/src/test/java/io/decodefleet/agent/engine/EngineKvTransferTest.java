package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.kv.IncomingKvTransfer;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two engines of one process hand a sequence over through the CPU backend's in-process exchange,
 * as a prefill agent and a decode agent do: the prefill engine samples the first token and parks
 * the sequence; its KV moves; the decode engine continues it. The tokens must equal those of one
 * engine decoding the sequence alone, and the decode side's recompute check must pass.
 */
class EngineKvTransferTest {
  private static final long TIMEOUT_S = 30;

  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stopEngines() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  /** Every event, KV reports included. */
  static final class Events implements Consumer<EngineEvent> {
    final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    /** The finish record {@link #tokensUntilFinished} stopped at. */
    SequenceFinished lastFinished;

    /** A load failure, a refusal or a crash is queued as its text, which fails the waiting test. */
    @Override
    public void accept(EngineEvent event) {
      if (event instanceof EngineEvent.LoadFailed f) {
        queue.add("load failed: " + f.reason());
      } else if (event instanceof EngineEvent.SequenceRefused r) {
        queue.add("rejected " + r.sequenceId() + ": " + r.reason());
      } else if (event instanceof EngineEvent.Crashed c) {
        queue.add("crashed: " + c.reason());
      } else {
        queue.add(event);
      }
    }

    /** Tokens of sequence {@code id} from the step reports until it finishes (other events are skipped). */
    List<Integer> tokensUntilFinished(long id) throws InterruptedException {
      List<Integer> out = new ArrayList<>();
      while (true) {
        Object e = queue.poll(TIMEOUT_S, TimeUnit.SECONDS);
        if (e == null) fail("sequence " + id + " did not finish within " + TIMEOUT_S + " s");
        if (e instanceof String s) fail(s);
        if (e instanceof EngineEvent.Stepped r) {
          for (SequenceTokens t : r.tokens()) {
            if (t.sequenceId() == id) for (int tok : t.tokens()) out.add(tok);
          }
          for (SequenceFinished f : r.finished()) {
            if (f.sequenceId() == id) {
              lastFinished = f;
              return out;
            }
          }
        }
      }
    }

    /** The next event of {@code type}, collecting the tokens of step reports passed on the way. */
    <T> T until(Class<T> type, List<Integer> tokens) throws InterruptedException {
      while (true) {
        Object e = queue.poll(TIMEOUT_S, TimeUnit.SECONDS);
        if (e == null) fail("no " + type.getSimpleName() + " within " + TIMEOUT_S + " s");
        if (e instanceof String s) fail(s);
        if (e instanceof EngineEvent.Stepped r) {
          for (SequenceTokens t : r.tokens()) for (int tok : t.tokens()) tokens.add(tok);
        }
        if (type.isInstance(e)) return type.cast(e);
      }
    }
  }

  private Engine start(String id, ModelSpec spec, Events events) throws InterruptedException {
    Engine e = new Engine(id, spec, () -> new CpuBackend(), events);
    engines.add(e);
    e.start();
    events.until(EngineEvent.Loaded.class, new ArrayList<>());
    return e;
  }

  private static int[] prompt(int n) {
    int vocab = ModelConfig.preset("tiny").vocabSize();
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = (i * 37 + 11) % vocab;
    return p;
  }

  private static int[] tokens(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Prefill engine (rank 0) and decode engine (rank 1) joined into one group. */
  private Engine[] pair(ModelSpec prefillSpec, ModelSpec decodeSpec, Events p, Events d) throws InterruptedException {
    Engine prefill = start("prefill", prefillSpec, p);
    Engine decode = start("decode", decodeSpec, d);
    prefill.createKvGroupId();
    byte[] id = p.until(EngineEvent.KvGroupIdCreated.class, new ArrayList<>()).id();
    prefill.joinKvGroup(new KvGroupSpec(id, 0, 2, List.of(1), KvTransferMode.EAGER, Duration.ofSeconds(10)));
    decode.joinKvGroup(new KvGroupSpec(id, 1, 2, List.of(0), KvTransferMode.EAGER, Duration.ofSeconds(10)));
    assertEquals(0, p.until(EngineEvent.KvGroupJoined.class, new ArrayList<>()).rank());
    assertEquals(1, d.until(EngineEvent.KvGroupJoined.class, new ArrayList<>()).rank());
    return new Engine[] {prefill, decode};
  }

  @Test
  void handedOffSequenceDecodesTheSameTokensAsOneEngineAlone() throws InterruptedException {
    int[] prompt = prompt(45); // spans 3 blocks of 16, the last one partly filled
    int maxTokens = 12;
    Events alone = new Events();
    Engine single = start("alone", new ModelSpec("tiny", 5, 16, 64, 8, 16, 0.0), alone);
    single.submit(List.of(SequenceSpecs.decodeToEnd(1, prompt, maxTokens)));
    List<Integer> expected = new ArrayList<>();
    alone.until(EngineEvent.Stepped.class, expected);
    while (expected.size() < maxTokens) alone.until(EngineEvent.Stepped.class, expected);

    Events p = new Events();
    Events d = new Events();
    // The decode side checks every step against a dense recompute: the received KV must be right.
    Engine[] pd = pair(new ModelSpec("tiny", 5, 16, 64, 8, 16, 0.0), new ModelSpec("tiny", 5, 16, 40, 8, 16, 1.0), p, d);
    pd[0].submit(List.of(new SequenceSpec(1, prompt, maxTokens, true)));
    List<Integer> first = new ArrayList<>();
    EngineEvent.KvReady ready = p.until(EngineEvent.KvReady.class, first);
    assertEquals(List.of(expected.get(0)), first, "the prefill engine streams exactly the first token");
    assertEquals(prompt.length, ready.numComputedTokens());

    pd[1].receiveKv(new IncomingKvTransfer(1, prompt, tokens(first), maxTokens, ready.numComputedTokens(), 0));
    pd[0].sendKv(1, 1);
    EngineEvent.KvTransferEnded sent = p.until(EngineEvent.KvTransferEnded.class, first);
    assertEquals(KvTransferOutcome.DONE, sent.outcome(), sent.detail());
    assertTrue(sent.sender());
    long pageBytes = 16L * ModelConfig.preset("tiny").kvSize() * Float.BYTES;
    assertEquals(2L * ModelConfig.preset("tiny").numHiddenLayers() * 3 * pageBytes, sent.bytes(), "3 pages, K and V");

    List<Integer> rest = new ArrayList<>();
    EngineEvent.KvTransferEnded received = d.until(EngineEvent.KvTransferEnded.class, rest);
    assertEquals(KvTransferOutcome.DONE, received.outcome(), received.detail());
    assertEquals(sent.bytes(), received.bytes());
    SequenceFinished done = null;
    while (done == null) {
      EngineEvent.Stepped r = d.until(EngineEvent.Stepped.class, rest);
      if (!r.finished().isEmpty()) done = r.finished().get(0);
    }
    List<Integer> all = new ArrayList<>(first);
    all.addAll(rest);
    assertArrayEquals(tokens(expected), tokens(all), "first token from prefill, the rest from decode");
    assertEquals(maxTokens, done.outputTokens());
    assertTrue(done.verify().checked() && done.verify().passed(), done.verify().toString());
    assertEquals(maxTokens - 1, done.verify().stepsChecked(), "every step sampled on the decode side was checked");
    assertTrue(p.queue.stream().noneMatch(e -> e instanceof EngineEvent.Stepped r && !r.tokens().isEmpty()),
        "the prefill engine produced nothing after the first token: " + p.queue);
  }

  @Test
  void decodeSideWithoutFreeBlocksReceivesAndReprefillsWithTheSameTokens() throws InterruptedException {
    int[] prompt = prompt(30);
    int maxTokens = 6;
    Events p = new Events();
    Events d = new Events();
    ModelSpec spec = new ModelSpec("tiny", 9, 16, 64, 8, 1024, 0.0);
    Engine[] pd = pair(spec, spec, p, d);
    pd[0].submit(List.of(new SequenceSpec(2, prompt, maxTokens, true)));
    List<Integer> first = new ArrayList<>();
    EngineEvent.KvReady ready = p.until(EngineEvent.KvReady.class, first);
    // Only now a filler takes 63 of the decode side's 64 blocks in its first step, then the last one
    // 15 tokens later; it holds them for 31 steps, and the receive below lands within the first of
    // them (it has to: with free blocks the receiver would take the KV instead).
    pd[1].submit(List.of(SequenceSpecs.decodeToEnd(50, prompt(16 * 62 + 1), 31)));
    d.until(EngineEvent.Stepped.class, new ArrayList<>());
    pd[1].receiveKv(new IncomingKvTransfer(2, prompt, tokens(first), maxTokens, ready.numComputedTokens(), 0));
    pd[0].sendKv(2, 1);
    assertEquals(KvTransferOutcome.DONE, p.until(EngineEvent.KvTransferEnded.class, first).outcome());
    EngineEvent.KvTransferEnded received = d.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.RECOMPUTE, received.outcome(), received.detail());
    assertEquals(2L * 4 * 2 * 16 * ModelConfig.preset("tiny").kvSize() * Float.BYTES, received.bytes(),
        "the data still crossed (2 pages x 4 layers, K and V), to keep the pair's order");
    List<Integer> rest = d.tokensUntilFinished(2);

    Events alone = new Events();
    Engine single = start("alone", spec, alone);
    single.submit(List.of(SequenceSpecs.decodeToEnd(2, prompt, maxTokens)));
    List<Integer> expected = alone.tokensUntilFinished(2);
    List<Integer> all = new ArrayList<>(first);
    all.addAll(rest);
    assertArrayEquals(tokens(expected), tokens(all), "re-prefilled on the decode side, same tokens");
  }

  @Test
  void sendOfASequenceThatIsNotParkedFailsAndReceiveWithoutGroupFails() throws InterruptedException {
    Events p = new Events();
    Engine[] pd = pair(new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), p,
        new Events());
    pd[0].sendKv(77, 1);
    EngineEvent.KvTransferEnded r = p.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.FAILED, r.outcome());
    assertTrue(r.detail().contains("not waiting for a hand-off"), r.detail());

    Events lone = new Events();
    Engine alone = start("lone", new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), lone);
    alone.receiveKv(new IncomingKvTransfer(3, prompt(5), new int[] {1}, 4, 5, 0));
    EngineEvent.KvTransferEnded f = lone.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.FAILED, f.outcome());
    assertTrue(f.detail().contains("no KV-transfer group"), f.detail());
    assertFalse(Double.isFinite(f.deviceMillis()));
  }

  /**
   * The decode side was told to receive sequences 77 and 1, in that order, from the prefill side,
   * which then refuses to send 77 (not parked there) and sends 1. Halves match by order, so 77's
   * receive would take 1's KV (same page count: nothing would notice). The refusal aborts the
   * group instead: both receives fail and 1's send is not issued.
   */
  @Test
  void aRefusedSendAbortsTheGroupSoThePeersReceiveNeverTakesTheNextSequencesKv() throws InterruptedException {
    Events p = new Events();
    Events d = new Events();
    ModelSpec spec = new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0);
    Engine[] pd = pair(spec, spec, p, d);
    int[] prompt = prompt(20);
    pd[0].submit(List.of(new SequenceSpec(1, prompt, 4, true)));
    List<Integer> first = new ArrayList<>();
    EngineEvent.KvReady ready = p.until(EngineEvent.KvReady.class, first);

    pd[1].receiveKv(new IncomingKvTransfer(77, prompt, tokens(first), 4, ready.numComputedTokens(), 0));
    pd[1].receiveKv(new IncomingKvTransfer(1, prompt, tokens(first), 4, ready.numComputedTokens(), 0));
    pd[0].sendKv(77, 1);
    pd[0].sendKv(1, 1);
    EngineEvent.KvTransferEnded refused = p.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(77, refused.sequenceId());
    assertEquals(KvTransferOutcome.FAILED, refused.outcome());
    EngineEvent.KvTransferEnded unsent = p.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(1, unsent.sequenceId());
    assertEquals(KvTransferOutcome.FAILED, unsent.outcome(), "sent after the order was lost");
    assertEquals(0, unsent.bytes());
    for (int i = 0; i < 2; i++) {
      EngineEvent.KvTransferEnded r = d.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
      assertEquals(KvTransferOutcome.FAILED, r.outcome(), "sequence " + r.sequenceId() + " took another's KV");
      assertTrue(r.detail().contains("order is lost on prefill"), r.detail());
    }
  }

  @Test
  void abortedGroupFailsAPendingReceiveInsteadOfWaitingForever() throws InterruptedException {
    Events p = new Events();
    Events d = new Events();
    Engine[] pd = pair(new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), p, d);
    pd[1].receiveKv(new IncomingKvTransfer(4, prompt(20), new int[] {3}, 5, 20, 0)); // the sender never sends
    pd[1].abortKvGroup("peer lost");
    EngineEvent.KvTransferEnded f = d.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.FAILED, f.outcome());
    assertTrue(f.detail().contains("peer lost"), f.detail());
    // The blocks went back: a sequence needing the whole pool still runs.
    pd[1].submit(List.of(SequenceSpecs.decodeToEnd(5, prompt(32 * 16 - 8), 8)));
    List<Integer> toks = new ArrayList<>();
    while (toks.size() < 8) d.until(EngineEvent.Stepped.class, toks);
    assertEquals(8, toks.size(), Arrays.toString(tokens(toks)));
  }
}
