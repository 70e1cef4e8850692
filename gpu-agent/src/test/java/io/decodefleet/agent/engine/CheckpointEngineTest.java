package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.LoadFormat;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.engine.checkpoint.TestCheckpoints;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on the CPU backend, loading a checkpoint as an agent does from its LoadModel spec. */
class CheckpointEngineTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  @TempDir
  Path tmp;
  private final List<Engine> engines = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (Engine e : engines) e.stop();
    for (Engine e : engines) e.awaitTermination(5000);
  }

  private EngineTest.Collector start(ModelSpec spec) {
    EngineTest.Collector c = new EngineTest.Collector();
    Engine e = new Engine("ckpt", spec, () -> new CpuBackend(), c);
    engines.add(e);
    e.start();
    return c;
  }

  private static List<SequenceSpec> sequences() {
    List<SequenceSpec> seqs = new ArrayList<>();
    for (long id = 1; id <= 4; id++) {
      int[] prompt = new int[5 + 7 * (int) id];
      for (int i = 0; i < prompt.length; i++) prompt[i] = (int) ((id * 131 + i * 17) % TINY.vocabSize());
      seqs.add(SequenceSpecs.decodeToEnd(id, prompt, 12));
    }
    return seqs;
  }

  private EngineTest.Run run(ModelSpec spec) throws InterruptedException {
    EngineTest.Collector c = start(spec);
    c.next(EngineEvent.Loaded.class);
    engines.get(engines.size() - 1).submit(sequences());
    Set<Long> ids = new HashSet<>();
    for (SequenceSpec s : sequences()) ids.add(s.sequenceId());
    return EngineTest.collect(c, ids);
  }

  private static ModelSpec checkpoint(Path dir, Quantization quant, KvCacheDtype kv) {
    return new ModelSpec(dir.toString(), 0, 16, 64, 8, 64, 1.0).withWeights(LoadFormat.SAFETENSORS, quant, kv);
  }

  @Test
  void aFloat32ExportOfTinyDecodesTheSameTokensAsThePresetAndPassesTheRecomputeCheck() throws Exception {
    Path dir = TestCheckpoints.export(TINY, io.decodefleet.agent.engine.CheckpointExport.Dtype.FLOAT32, 2,
        tmp.resolve("tiny"));
    EngineTest.Run preset = run(new ModelSpec("tiny", 0, 16, 64, 8, 64, 1.0));
    EngineTest.Run loaded = run(checkpoint(dir, Quantization.NONE, KvCacheDtype.AUTO));
    EngineTest.assertSameTokens(preset.tokenArrays(), loaded.tokenArrays());
    for (SequenceFinished f : loaded.finished.values()) assertTrue(f.verify().passed(), f.verify().detail());
  }

  @Test
  void anFp8KvCacheHoldsFourTimesTheBlocksAndPassesItsRecomputeCheck() throws Exception {
    EngineTest.Collector auto = start(new ModelSpec("tiny", 0, 16, 0, 8, 64, 0.0));
    int floatBlocks = auto.next(EngineEvent.Loaded.class).kvBlocks();
    EngineTest.Collector fp8 = start(new ModelSpec("tiny", 0, 16, 0, 8, 64, 0.0).withWeights(LoadFormat.DUMMY,
        Quantization.NONE, KvCacheDtype.FP8));
    EngineEvent.Loaded loaded = fp8.next(EngineEvent.Loaded.class);
    assertEquals(4 * floatBlocks, loaded.kvBlocks());
    assertTrue(loaded.loadReport().endsWith("; FP8 e4m3 KV cache"), loaded.loadReport());
    assertTrue(loaded.kvTransferUnsupported().contains("FP8"), loaded.kvTransferUnsupported());
    EngineTest.Run run = run(new ModelSpec("tiny", 0, 16, 64, 8, 64, 1.0).withWeights(LoadFormat.DUMMY,
        Quantization.FP8, KvCacheDtype.FP8));
    double worst = 0;
    for (SequenceFinished f : run.finished.values()) {
      assertTrue(f.verify().passed(), f.verify().detail());
      worst = Math.max(worst, f.verify().maxRelError());
    }
    assertTrue(worst > 0, "an FP8 cache differs from the dense recompute");
    System.out.println("FP8 KV cache against the dense recompute: worst max-norm relative error " + worst);
  }

  @Test
  void aBadCheckpointFailsTheLoadWithTheLineNamingTheTensor() throws Exception {
    Path dir = TestCheckpoints.export(TestCheckpoints.SMALL, CheckpointExport.Dtype.BFLOAT16, 1, tmp.resolve("bad"));
    TestCheckpoints.editConfig(dir, c -> c.put("intermediate_size", 48));
    EngineTest.Collector c = start(checkpoint(dir, Quantization.NONE, KvCacheDtype.AUTO));
    Object e = c.events.poll(30, TimeUnit.SECONDS);
    if (!(e instanceof EngineEvent.LoadFailed f)) {
      fail("expected LoadFailed, got " + e);
      return;
    }
    assertEquals("CheckpointException: " + dir.resolve("model.safetensors") + ": tensor"
        + " 'model.layers.0.mlp.gate_proj.weight': shape [40, 16] but config.json gives [48, 16]", f.reason());
  }
}
