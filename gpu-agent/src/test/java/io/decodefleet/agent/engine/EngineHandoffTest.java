package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.protocol.AgentReport.KvTransferred.Outcome;
import io.decodefleet.agent.protocol.ModelSpec;
import io.decodefleet.agent.protocol.SequenceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two engines of one process hand a sequence over through the CPU backend's in-process exchange,
 * as a prefill agent and a decode agent do: the prefill engine samples the first token and parks
 * the sequence; its KV moves; the decode engine continues it. The tokens must equal those of one
 * engine decoding the sequence alone, and the decode side's recompute check must pass.
 */
class EngineHandoffTest {
  private static final long TIMEOUT_S = 30;

  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stopEngines() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  /** Every event, KV reports included. */
  static final class Events implements Engine.Listener {
    final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    /** The finish record {@link #tokensUntilFinished} stopped at. */
    AgentReport.SequenceFinished lastFinished;

    @Override
    public void loaded(AgentReport.ModelLoaded loaded) {
      queue.add(loaded);
    }

    @Override
    public void loadFailed(String reason) {
      queue.add("load failed: " + reason);
    }

    @Override
    public void stepped(AgentReport.StepReport report) {
      queue.add(report);
    }

    @Override
    public void rejected(long sequenceId, String reason) {
      queue.add("rejected " + sequenceId + ": " + reason);
    }

    @Override
    public void drained(List<Long> unfinishedSequenceIds) {
      queue.add(new EngineTest.Collector.Drained(unfinishedSequenceIds));
    }

    @Override
    public void crashed(String reason, List<Long> unfinishedSequenceIds) {
      queue.add("crashed: " + reason);
    }

    @Override
    public void kvReported(AgentReport report) {
      queue.add(report);
    }

    /** Tokens of sequence {@code id} from the step reports until it finishes (other events are skipped). */
    List<Integer> tokensUntilFinished(long id) throws InterruptedException {
      List<Integer> out = new ArrayList<>();
      while (true) {
        Object e = queue.poll(TIMEOUT_S, TimeUnit.SECONDS);
        if (e == null) fail("sequence " + id + " did not finish within " + TIMEOUT_S + " s");
        if (e instanceof String s) fail(s);
        if (e instanceof AgentReport.StepReport r) {
          for (AgentReport.SequenceTokens t : r.tokens()) {
            if (t.sequenceId() == id) for (int tok : t.tokens()) out.add(tok);
          }
          for (AgentReport.SequenceFinished f : r.finished()) {
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
        if (e instanceof AgentReport.StepReport r) {
          for (AgentReport.SequenceTokens t : r.tokens()) for (int tok : t.tokens()) tokens.add(tok);
        }
        if (type.isInstance(e)) return type.cast(e);
      }
    }
  }

  private Engine start(String id, ModelSpec spec, Events events) throws InterruptedException {
    Engine e = new Engine(id, spec, () -> new CpuBackend(), events);
    engines.add(e);
    e.start();
    events.until(AgentReport.ModelLoaded.class, new ArrayList<>());
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
    byte[] id = p.until(AgentReport.KvGroupId.class, new ArrayList<>()).id();
    prefill.joinKvGroup(new KvGroupSpec(id, 0, 2, List.of(1), KvTransferMode.EAGER, Duration.ofSeconds(10)));
    decode.joinKvGroup(new KvGroupSpec(id, 1, 2, List.of(0), KvTransferMode.EAGER, Duration.ofSeconds(10)));
    assertEquals(0, p.until(AgentReport.KvGroupJoined.class, new ArrayList<>()).rank());
    assertEquals(1, d.until(AgentReport.KvGroupJoined.class, new ArrayList<>()).rank());
    return new Engine[] {prefill, decode};
  }

  @Test
  void handedOffSequenceDecodesTheSameTokensAsOneEngineAlone() throws InterruptedException {
    int[] prompt = prompt(45); // spans 3 blocks of 16, the last one partly filled
    int maxTokens = 12;
    Events alone = new Events();
    Engine single = start("alone", new ModelSpec("tiny", 5, 16, 64, 8, 16, 0.0), alone);
    single.submit(List.of(new SequenceSpec(1, prompt, maxTokens)));
    List<Integer> expected = new ArrayList<>();
    alone.until(AgentReport.StepReport.class, expected);
    while (expected.size() < maxTokens) alone.until(AgentReport.StepReport.class, expected);

    Events p = new Events();
    Events d = new Events();
    // The decode side checks every step against a dense recompute: the received KV must be right.
    Engine[] pd = pair(new ModelSpec("tiny", 5, 16, 64, 8, 16, 0.0), new ModelSpec("tiny", 5, 16, 40, 8, 16, 1.0), p, d);
    pd[0].submit(List.of(new SequenceSpec(1, prompt, maxTokens, true)));
    List<Integer> first = new ArrayList<>();
    AgentReport.KvReady ready = p.until(AgentReport.KvReady.class, first);
    assertEquals(List.of(expected.get(0)), first, "the prefill engine streams exactly the first token");
    assertEquals(prompt.length, ready.numComputedTokens());

    pd[1].receiveKv(new KvArrival(1, prompt, tokens(first), maxTokens, ready.numComputedTokens(), 0));
    pd[0].sendKv(1, 1);
    AgentReport.KvTransferred sent = p.until(AgentReport.KvTransferred.class, first);
    assertEquals(Outcome.DONE, sent.outcome(), sent.detail());
    assertTrue(sent.sender());
    long pageBytes = 16L * ModelConfig.preset("tiny").kvSize() * Float.BYTES;
    assertEquals(2L * ModelConfig.preset("tiny").numHiddenLayers() * 3 * pageBytes, sent.bytes(), "3 pages, K and V");

    List<Integer> rest = new ArrayList<>();
    AgentReport.KvTransferred received = d.until(AgentReport.KvTransferred.class, rest);
    assertEquals(Outcome.DONE, received.outcome(), received.detail());
    assertEquals(sent.bytes(), received.bytes());
    AgentReport.SequenceFinished done = null;
    while (done == null) {
      AgentReport.StepReport r = d.until(AgentReport.StepReport.class, rest);
      if (!r.finished().isEmpty()) done = r.finished().get(0);
    }
    List<Integer> all = new ArrayList<>(first);
    all.addAll(rest);
    assertArrayEquals(tokens(expected), tokens(all), "first token from prefill, the rest from decode");
    assertEquals(maxTokens, done.outputTokens());
    assertTrue(done.verify().checked() && done.verify().passed(), done.verify().toString());
    assertEquals(maxTokens - 1, done.verify().stepsChecked(), "every step sampled on the decode side was checked");
    assertTrue(p.queue.stream().noneMatch(e -> e instanceof AgentReport.StepReport r && !r.tokens().isEmpty()),
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
    AgentReport.KvReady ready = p.until(AgentReport.KvReady.class, first);
    // Only now a filler takes 63 of the decode side's 64 blocks in its first step, then the last one
    // 15 tokens later; it holds them for 31 steps, and the receive below lands within the first of
    // them (it has to: with free blocks the receiver would take the KV instead).
    pd[1].submit(List.of(new SequenceSpec(50, prompt(16 * 62 + 1), 31)));
    d.until(AgentReport.StepReport.class, new ArrayList<>());
    pd[1].receiveKv(new KvArrival(2, prompt, tokens(first), maxTokens, ready.numComputedTokens(), 0));
    pd[0].sendKv(2, 1);
    assertEquals(Outcome.DONE, p.until(AgentReport.KvTransferred.class, first).outcome());
    AgentReport.KvTransferred received = d.until(AgentReport.KvTransferred.class, new ArrayList<>());
    assertEquals(Outcome.RECOMPUTE, received.outcome(), received.detail());
    assertEquals(2L * 4 * 2 * 16 * ModelConfig.preset("tiny").kvSize() * Float.BYTES, received.bytes(),
        "the data still crossed (2 pages x 4 layers, K and V), to keep the pair's order");
    List<Integer> rest = d.tokensUntilFinished(2);

    Events alone = new Events();
    Engine single = start("alone", spec, alone);
    single.submit(List.of(new SequenceSpec(2, prompt, maxTokens)));
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
    AgentReport.KvTransferred r = p.until(AgentReport.KvTransferred.class, new ArrayList<>());
    assertEquals(Outcome.FAILED, r.outcome());
    assertTrue(r.detail().contains("not waiting for a hand-off"), r.detail());

    Events lone = new Events();
    Engine alone = start("lone", new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), lone);
    alone.receiveKv(new KvArrival(3, prompt(5), new int[] {1}, 4, 5, 0));
    AgentReport.KvTransferred f = lone.until(AgentReport.KvTransferred.class, new ArrayList<>());
    assertEquals(Outcome.FAILED, f.outcome());
    assertTrue(f.detail().contains("no KV-transfer group"), f.detail());
    assertFalse(Double.isFinite(f.deviceMillis()));
  }

  @Test
  void abortedGroupFailsAPendingReceiveInsteadOfWaitingForever() throws InterruptedException {
    Events p = new Events();
    Events d = new Events();
    Engine[] pd = pair(new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), new ModelSpec("tiny", 1, 16, 32, 8, 64, 0.0), p, d);
    pd[1].receiveKv(new KvArrival(4, prompt(20), new int[] {3}, 5, 20, 0)); // the sender never sends
    pd[1].abortKvGroup("peer lost");
    AgentReport.KvTransferred f = d.until(AgentReport.KvTransferred.class, new ArrayList<>());
    assertEquals(Outcome.FAILED, f.outcome());
    assertTrue(f.detail().contains("peer lost"), f.detail());
    // The blocks went back: a sequence needing the whole pool still runs.
    pd[1].submit(List.of(new SequenceSpec(5, prompt(32 * 16 - 8), 8)));
    List<Integer> toks = new ArrayList<>();
    while (toks.size() < 8) d.until(AgentReport.StepReport.class, toks);
    assertEquals(8, toks.size(), Arrays.toString(tokens(toks)));
  }
}
