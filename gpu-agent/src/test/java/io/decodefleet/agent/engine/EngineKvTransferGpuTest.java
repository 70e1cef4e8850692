package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.engine.kv.IncomingKvTransfer;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.kernels.cuda.Fatbin;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hand-off between two CUDA engines (GPU 0 prefills, GPU 1 decodes) over NCCL, eager and
 * graph: the decode engine's tokens must equal one CUDA engine decoding alone (same kernels, same
 * batch of one, bit-identical KV), and its recompute check must pass. Skipped without two GPUs,
 * the fatbin or NCCL.
 */
@Tag("gpu")
class EngineKvTransferGpuTest {

  private final List<Engine> engines = new ArrayList<>();

  @BeforeEach
  void needsTwoGpusAndNccl() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(d.gpus().size() >= 2, "needs 2 GPUs");
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
  }

  @AfterEach
  void stopEngines() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(30_000);
  }

  private Engine start(String id, int gpu, ModelSpec spec, EngineKvTransferTest.Events events)
      throws InterruptedException {
    CudaSettings settings = CudaSettings.defaults().withMaxGraphBatch(8).withGpuMemoryFraction(0.5);
    Engine e = new Engine(id, spec, () -> CudaBackend.open(gpu, settings), events);
    engines.add(e);
    e.start();
    events.until(EngineEvent.Loaded.class, new ArrayList<>());
    return e;
  }

  @ParameterizedTest
  @EnumSource(KvTransferMode.class)
  void decodeOnTheOtherGpuContinuesWithTheTokensOfOneGpuAlone(KvTransferMode mode) throws InterruptedException {
    int vocab = ModelConfig.preset("llama3-8b-2l").vocabSize();
    int[] prompt = new int[301]; // 19 blocks of 16, the last partly filled
    for (int i = 0; i < prompt.length; i++) prompt[i] = (i * 7919 + 13) % vocab;
    int maxTokens = 24;
    ModelSpec spec = new ModelSpec("llama3-8b-2l", 3, 16, 512, 8, 512, 0.0);

    EngineKvTransferTest.Events alone = new EngineKvTransferTest.Events();
    start("alone", 0, spec, alone).submit(List.of(SequenceSpecs.decodeToEnd(1, prompt, maxTokens)));
    List<Integer> expected = alone.tokensUntilFinished(1);

    EngineKvTransferTest.Events p = new EngineKvTransferTest.Events();
    EngineKvTransferTest.Events d = new EngineKvTransferTest.Events();
    Engine prefill = start("prefill", 0, spec, p);
    Engine decode = start("decode", 1, new ModelSpec("llama3-8b-2l", 3, 16, 512, 8, 512, 1.0), d);
    prefill.createKvGroupId();
    byte[] id = p.until(EngineEvent.KvGroupIdCreated.class, new ArrayList<>()).id();
    prefill.joinKvGroup(new KvGroupSpec(id, 0, 2, List.of(1), mode, Duration.ofSeconds(60)));
    decode.joinKvGroup(new KvGroupSpec(id, 1, 2, List.of(0), mode, Duration.ofSeconds(60)));
    p.until(EngineEvent.KvGroupJoined.class, new ArrayList<>());
    d.until(EngineEvent.KvGroupJoined.class, new ArrayList<>());

    prefill.submit(List.of(new SequenceSpec(1, prompt, maxTokens, true)));
    List<Integer> first = new ArrayList<>();
    EngineEvent.KvReady ready = p.until(EngineEvent.KvReady.class, first);
    decode.receiveKv(new IncomingKvTransfer(1, prompt, new int[] {first.get(0)}, maxTokens, ready.numComputedTokens(), 0));
    prefill.sendKv(1, 1);
    EngineEvent.KvTransferEnded sent = p.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.DONE, sent.outcome(), sent.detail());
    EngineEvent.KvTransferEnded received = d.until(EngineEvent.KvTransferEnded.class, new ArrayList<>());
    assertEquals(KvTransferOutcome.DONE, received.outcome(), received.detail());
    assertTrue(received.deviceMillis() > 0, received.toString());
    List<Integer> rest = d.tokensUntilFinished(1);
    assertTrue(d.lastFinished.verify().passed(), mode + ": " + d.lastFinished.verify());
    assertEquals(maxTokens - 1, d.lastFinished.verify().stepsChecked());

    List<Integer> all = new ArrayList<>(first);
    all.addAll(rest);
    assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(),
        all.stream().mapToInt(Integer::intValue).toArray(), mode + ": first token from GPU 0, the rest from GPU 1");
  }
}
