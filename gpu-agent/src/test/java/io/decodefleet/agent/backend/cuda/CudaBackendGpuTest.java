package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.Engine;
import io.decodefleet.agent.engine.EngineEvent;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.cublas.CublasLt;
import io.decodefleet.agent.tools.parity.ParityCheck;
import io.decodefleet.agent.engine.SequenceSpecs;
import io.decodefleet.kernels.cuda.Fatbin;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend on GPU 0 against the CPU backend, on every decode path: `tiny` (head dim 32,
 * the plain paged kernel) and two small models the tensor-core attention kernels take (head dims
 * 64 and 128). Skipped (an assumption, not a failure) without a CUDA device or a fatbin.
 */
@Tag("gpu")
class CudaBackendGpuTest {

  /** Head dim 64, 4 query heads per kv head: the d64 prefill and decode kernels. */
  private static final ModelConfig D64 =
      new ModelConfig("test-d64", 256, 512, 4, 1, 2, 2048, 10000.0, 1e-5f, 64, 4096, false);
  /** Head dim 128, GQA 4, untied head: the d128 kernels, as Llama-3-8B uses them. */
  private static final ModelConfig D128 =
      new ModelConfig("test-d128", 512, 1024, 8, 2, 2, 4096, 500000.0, 1e-5f, 128, 8192, false);

  /** q/k norms at head dim 128, GQA 8, the query width twice hidden: Qwen3-30B-A3B's attention in small. */
  private static final ModelConfig QK128 = new ModelConfig("test-qk128", 512, 1024, 8, 1, 2, 4096, 1000000.0, 1e-6f,
      128, 8192, false, false, true, null);

  /** q/k/v biases at head dim 128, GQA 4: Qwen2-7B's attention in small. */
  private static final ModelConfig QB128 = new ModelConfig("test-qb128", 512, 1024, 8, 2, 2, 4096, 1000000.0, 1e-6f,
      128, 8192, false, true);

  private GpuInfo gpu;

  @BeforeEach
  void needsAGpu() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    gpu = d.gpus().get(0);
  }

  private ParityCheck.Report parity(ModelConfig model, CudaSettings.AttentionKernels attention) {
    return parity(model, CudaSettings.defaults().withMaxGraphBatch(8).withAttention(attention));
  }

  private ParityCheck.Report parity(ModelConfig model, CudaSettings settings) {
    ParityCheck.Options o = new ParityCheck.Options(model, 7, 4, 32, Arrays.asList(DecodePath.values()), settings,
        ParityCheck.DEFAULT_TOLERANCE);
    return ParityCheck.run(gpu, o, System.out);
  }

  private static void assertPassed(ParityCheck.Report r) {
    for (ParityCheck.PathResult p : r.results()) {
      assertTrue(p.passed(), r.model() + " on " + p.path().label() + ": " + p.failure());
      assertEquals(0, p.mismatches(), r.model() + " on " + p.path().label() + ": tokens differ beyond near ties");
      assertTrue(p.exactTokens() >= p.rows() * 3 / 4, r.model() + " on " + p.path().label()
          + ": near ties should be the exception, " + p.nearTies() + " of " + p.rows());
      if (p.path().usesGraphs()) {
        assertTrue(p.stepsByPath().getOrDefault(p.path().label(), 0) > 0,
            "decode steps replayed a graph: " + p.stepsByPath());
      }
    }
  }

  @Test
  void tinyMatchesTheCpuBackendOnEveryDecodePath() {
    assertPassed(parity(ModelConfig.preset("tiny"), CudaSettings.AttentionKernels.AUTO));
  }

  @Test
  void headDim64KernelsMatchTheCpuBackendOnEveryDecodePath() {
    assertPassed(parity(D64, CudaSettings.AttentionKernels.AUTO));
  }

  @Test
  void headDim128KernelsMatchTheCpuBackendOnEveryDecodePath() {
    assertPassed(parity(D128, CudaSettings.AttentionKernels.AUTO));
  }

  /**
   * Each GEMM dispatch policy pins one kind of choice: ours only, our second skinny GEMM wherever it
   * applies (every decode step and graph bucket here, up to 8 rows), cuBLASLt's first pick wherever
   * it has one.
   */
  @Test
  void everyGemmTheDispatchCanChooseMatchesTheCpuBackend() {
    CudaSettings base = CudaSettings.defaults().withMaxGraphBatch(8);
    assertPassed(parity(D128, base.withGemm(GemmTuner.Policy.OURS)));
    assertPassed(parity(D128, base.withGemm(GemmTuner.Policy.SKINNY2)));
    assertPassed(parity(D64, base.withGemm(GemmTuner.Policy.SKINNY2)));
    assumeTrue(CublasLt.isAvailable(), CublasLt::unavailabilityCause);
    assertPassed(parity(D128, base.withGemm(GemmTuner.Policy.CUBLASLT)));
    assertPassed(parity(D64, base.withGemm(GemmTuner.Policy.AUTO)));
  }

  /**
   * FP8 weights and an FP8 KV cache against the CPU backend's FP8 reference, at the bf16 tolerance
   * (over an FP8 cache, {@link ParityCheck#FP8_KV_TOLERANCE}): the FP8 skinny GEMMs (decode: the dispatch's choice, then the second one pinned), the widened prefill GEMM, the FP8 append and the FP8 decode
   * attention (d64 and d128, split and persistent, eager and graph) and the FP8 plain paged kernel.
   */
  @Test
  void fp8WeightsAndKvCacheMatchTheCpuBackendsFp8OnEveryDecodePath() {
    CudaSettings settings = CudaSettings.defaults().withMaxGraphBatch(8);
    for (ModelConfig model : new ModelConfig[] {ModelConfig.preset("tiny"), D64, D128}) {
      for (ModelSpec.KvCacheDtype kv : ModelSpec.KvCacheDtype.values()) {
        assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(model, 7, 4, 32, Arrays.asList(DecodePath.values()),
            settings, ParityCheck.defaultTolerance(kv), ModelSpec.Quantization.FP8, kv), System.out));
      }
      assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(model, 7, 4, 32, Arrays.asList(DecodePath.values()),
          settings, ParityCheck.FP8_KV_TOLERANCE, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.FP8),
          System.out));
    }
    // --gemm skinny2 pins the FP8 second skinny GEMM at every decode row count (launches of 64 rows past 64).
    for (ModelConfig model : new ModelConfig[] {D64, D128}) {
      assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(model, 7, 4, 32, Arrays.asList(DecodePath.values()),
          settings.withGemm(GemmTuner.Policy.SKINNY2), ParityCheck.FP8_KV_TOLERANCE, ModelSpec.Quantization.FP8,
          ModelSpec.KvCacheDtype.FP8), System.out));
    }
  }

  /**
   * q/k norms (Qwen3), applied inside the RoPE + KV-append launch: dense at head dim 64 (tiny-qwen3)
   * and 128 (QK128) on every decode path, over a bf16 and an FP8 KV cache, and with tiny-moe's
   * experts (tiny-qwen3-moe, the router against the CPU's as for tiny-moe).
   */
  @Test
  void qkNormModelsMatchTheCpuBackendOnEveryDecodePath() {
    CudaSettings settings = CudaSettings.defaults().withMaxGraphBatch(8);
    assertAttentionVariantPasses(ModelConfig.preset("tiny-qwen3"), QK128);
    assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(ModelConfig.preset("tiny-qwen3-moe"), 7, 4, 32,
        Arrays.asList(DecodePath.values()), settings, ParityCheck.DEFAULT_TOLERANCE, ModelSpec.Quantization.NONE,
        ModelSpec.KvCacheDtype.AUTO, MoeRouterPolicy.TOP_K), System.out));
  }

  /**
   * Qwen2's q/k/v biases, added inside the RoPE + KV-append launch: head dim 32 (tiny-qwen2) and 128
   * (QB128) on every decode path, both attention kernel choices at 128, over a bf16 and an FP8 KV
   * cache, and with FP8 weights.
   */
  @Test
  void attentionBiasModelsMatchTheCpuBackendOnEveryDecodePath() {
    assertAttentionVariantPasses(ModelConfig.preset("tiny-qwen2"), QB128);
    assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(QB128, 7, 4, 32, Arrays.asList(DecodePath.values()),
        CudaSettings.defaults().withMaxGraphBatch(8), ParityCheck.FP8_KV_TOLERANCE, ModelSpec.Quantization.FP8,
        ModelSpec.KvCacheDtype.FP8), System.out));
  }

  /**
   * Llama 3.1's RoPE scaling: the CUDA backend's host-built table holds the scaled frequencies, as the
   * CPU backend rotates by them (an original context of 256, so that parity's positions already turn
   * differently from plain RoPE), on every decode path.
   */
  @Test
  void llama31RopeScalingMatchesTheCpuBackendOnEveryDecodePath() {
    ModelConfig scaled = new ModelConfig("test-d128-llama31", 512, 1024, 8, 2, 2, 4096, 500000.0, 1e-5f, 128, 8192,
        false, false, false, null, new io.decodefleet.agent.engine.checkpoint.RopeScaling(8.0, 1.0, 4.0, 256));
    assertPassed(parity(scaled, CudaSettings.AttentionKernels.AUTO));
  }

  /**
   * An attention variant (inside the RoPE + KV-append launch) at a small head dim ({@code small}) and
   * at 128 ({@code d128}) on every decode path, both attention kernel choices at 128, over a bf16 and
   * an FP8 KV cache.
   */
  private void assertAttentionVariantPasses(ModelConfig small, ModelConfig d128) {
    assertPassed(parity(small, CudaSettings.AttentionKernels.AUTO));
    assertPassed(parity(d128, CudaSettings.AttentionKernels.AUTO));
    assertPassed(parity(d128, CudaSettings.AttentionKernels.PAGED));
    for (ModelConfig model : new ModelConfig[] {small, d128}) {
      assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(model, 7, 4, 32, Arrays.asList(DecodePath.values()),
          CudaSettings.defaults().withMaxGraphBatch(8), ParityCheck.FP8_KV_TOLERANCE, ModelSpec.Quantization.NONE,
          ModelSpec.KvCacheDtype.FP8), System.out));
    }
  }

  /**
   * tiny-moe: the MoE kernels inside every decode path (graphs included), the router against the
   * CPU's, the rest of each step on the CPU's routing; plain top-k and a capacity that drops tokens.
   */
  @Test
  void tinyMoeMatchesTheCpuBackendOnEveryDecodePathWithAndWithoutCapacity() {
    CudaSettings settings = CudaSettings.defaults().withMaxGraphBatch(8);
    for (MoeRouterPolicy router : new MoeRouterPolicy[] {MoeRouterPolicy.TOP_K, new MoeRouterPolicy(1.0)}) {
      assertPassed(ParityCheck.run(gpu, new ParityCheck.Options(ModelConfig.preset("tiny-moe"), 7, 4, 32,
          Arrays.asList(DecodePath.values()), settings, ParityCheck.DEFAULT_TOLERANCE, ModelSpec.Quantization.NONE,
          ModelSpec.KvCacheDtype.AUTO, router), System.out));
    }
  }

  /**
   * The expert load the CUDA backend reports comes from the device's counts, copied back with each
   * step's logits: on the CPU's routing (given to the device) it equals the CPU backend's step for
   * step, drops over a capacity included, on graph replays and eager steps alike.
   */
  @Test
  void theDevicesExpertLoadEqualsTheCpuBackendsStepForStepOnTheSameRouting() {
    ModelConfig moe = ModelConfig.preset("tiny-moe");
    io.decodefleet.agent.engine.ModelLoad load = io.decodefleet.agent.engine.ModelLoad.dummy(moe, 5)
        .with(new MoeRouterPolicy(1.0));
    io.decodefleet.agent.tools.parity.ParitySchedule schedule =
        new io.decodefleet.agent.tools.parity.ParitySchedule(moe.vocabSize(), 5, 4, 12, 16);
    List<io.decodefleet.agent.engine.ForwardBatch> batches;
    List<io.decodefleet.kernels.reference.MoeRouter.Routing[]> routing = new ArrayList<>();
    List<io.decodefleet.agent.engine.ExpertLoad> loads = new ArrayList<>();
    try (io.decodefleet.agent.backend.cpu.CpuBackend cpu = new io.decodefleet.agent.backend.cpu.CpuBackend(0)) {
      cpu.loadModel(load);
      cpu.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      batches = schedule.run(b -> {
        float[] logits = cpu.forward(b);
        routing.add(cpu.lastRouting());
        loads.add(cpu.lastExpertLoad());
        int[] out = new int[b.numSampled()];
        for (int i = 0; i < out.length; i++) {
          out[i] = io.decodefleet.kernels.reference.Argmax.argmax(logits, i * moe.vocabSize(), moe.vocabSize());
        }
        return out;
      });
    }
    long dropped = loads.stream().mapToLong(l -> java.util.Arrays.stream(l.dropped()).sum()).sum();
    assertTrue(dropped > 0, "a capacity factor of 1.0 drops tokens of an uneven routing");
    try (CudaBackend cuda = new CudaBackend(gpu, CudaSettings.defaults().withMaxGraphBatch(8))) {
      cuda.loadModel(load);
      cuda.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      for (int s = 0; s < batches.size(); s++) {
        cuda.routing().give(routing.get(s), batches.get(s));
        cuda.forward(batches.get(s));
        assertEquals(loads.get(s), cuda.lastExpertLoad(), "step " + s + " (" + cuda.lastStepTiming().path() + ")");
      }
    }
  }

  /**
   * A prompt of 300 tokens at once (the dense recompute, one eager step): 300 launched rows run the
   * tensor-core expert GEMMs (moe_prefill.cu), which the parity schedule's smaller steps never reach;
   * on the CPU's routing every position's logits are within the tolerance.
   */
  @Test
  void aLongTinyMoePromptRunsTheTensorCoreExpertsAndMatchesTheCpuBackend() {
    ModelConfig moe = ModelConfig.preset("tiny-moe");
    int[] tokens = new Random(9).ints(300, 0, moe.vocabSize()).toArray();
    float[] want;
    io.decodefleet.kernels.reference.MoeRouter.Routing[] routing;
    try (io.decodefleet.agent.backend.cpu.CpuBackend cpu = new io.decodefleet.agent.backend.cpu.CpuBackend(0)) {
      cpu.loadModel(moe, 9);
      want = cpu.forwardWithoutCache(tokens);
      routing = cpu.lastRouting();
    }
    assertTrue(300 >= io.decodefleet.kernels.cuda.MoeExpertGemmParams.TENSOR_CORE_MIN_ROWS);
    try (CudaBackend cuda = new CudaBackend(gpu, CudaSettings.defaults().withMaxGraphBatch(8))) {
      cuda.loadModel(moe, 9);
      cuda.allocateKvCache(64, 16);
      cuda.routing().give(routing);
      float[] got = cuda.forwardWithoutCache(tokens);
      for (int t = 0; t < tokens.length; t++) {
        double rel = io.decodefleet.agent.tools.parity.LogitsComparison.relL2(got, want, t * moe.vocabSize(),
            moe.vocabSize());
        assertTrue(rel <= ParityCheck.DEFAULT_TOLERANCE, "position " + t + ": logits differ by " + rel);
      }
    }
  }

  /**
   * FP8 weights on a prompt of 300 tokens at once: past the FP8 decode GEMMs' 256 rows, the prefill
   * projections run our wgmma GEMM over FP8 weights where {@value GemmTuner#WGMMA_FP8_SETTING_ENV} is
   * on (sm_90), else widen each weight into the bf16 scratch for the bf16 dispatch; either way every
   * position's logits are the CPU backend's FP8 reference's within the tolerance.
   */
  @Test
  void aLongFp8PromptRunsThePrefillProjectionsAndMatchesTheCpuBackendsFp8() {
    int[] tokens = new Random(11).ints(300, 0, D128.vocabSize()).toArray();
    assertTrue(tokens.length > Projections.FP8_GEMM_MAX_ROWS, "past the FP8 decode GEMMs' rows");
    io.decodefleet.agent.engine.ModelLoad load = io.decodefleet.agent.engine.ModelLoad.dummy(D128, 5)
        .with(ModelSpec.Quantization.FP8, ModelSpec.KvCacheDtype.AUTO);
    float[] want;
    try (io.decodefleet.agent.backend.cpu.CpuBackend cpu = new io.decodefleet.agent.backend.cpu.CpuBackend(0)) {
      cpu.loadModel(load);
      want = cpu.forwardWithoutCache(tokens);
    }
    try (CudaBackend cuda = new CudaBackend(gpu, CudaSettings.defaults().withMaxGraphBatch(8))) {
      cuda.loadModel(load);
      cuda.allocateKvCache(64, 16);
      System.out.println("FP8 prefill, " + (GemmTuner.wgmmaFp8InDispatch() ? GemmTuner.WGMMA_FP8_SETTING_ENV + " on: "
          : "widened: ") + cuda.loadReport());
      float[] got = cuda.forwardWithoutCache(tokens);
      for (int t = 0; t < tokens.length; t++) {
        double rel = io.decodefleet.agent.tools.parity.LogitsComparison.relL2(got, want, t * D128.vocabSize(),
            D128.vocabSize());
        assertTrue(rel <= ParityCheck.DEFAULT_TOLERANCE, "position " + t + ": logits differ by " + rel);
      }
    }
  }

  @Test
  void thePlainPagedKernelMatchesTooWhereTheTensorCoreKernelsWouldRun() {
    assertPassed(parity(D128, CudaSettings.AttentionKernels.PAGED));
  }

  @Test
  void theEngineServesSequencesOnTheCudaBackendWithGraphReplaysForDecode() throws Exception {
    int sequences = 6;
    CountDownLatch finished = new CountDownLatch(sequences);
    Map<String, Integer> paths = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    Engine engine = new Engine("gpu-test", new ModelSpec("tiny", 3, 16, 256, 8, 64, 0.0),
        () -> new CudaBackend(gpu, CudaSettings.defaults().withMaxGraphBatch(8)), new Consumer<EngineEvent>() {
          @Override
          public synchronized void accept(EngineEvent event) {
            if (event instanceof EngineEvent.Stepped report) {
              paths.merge(report.path(), 1, Integer::sum);
              report.finished().forEach(f -> finished.countDown());
            } else if (event instanceof EngineEvent.SequenceRefused r) {
              failures.add(r.reason());
              finished.countDown();
            } else if (event instanceof EngineEvent.LoadFailed f) {
              failures.add(f.reason());
              for (int i = 0; i < sequences; i++) {
                finished.countDown();
              }
            } else if (event instanceof EngineEvent.Crashed c) {
              failures.add(c.reason());
              for (int i = 0; i < sequences; i++) {
                finished.countDown();
              }
            }
          }
        });
    engine.start();
    Random r = new Random(5);
    List<SequenceSpec> specs = new ArrayList<>();
    for (int i = 0; i < sequences; i++) {
      int[] prompt = r.ints(20 + 17 * i, 0, 1024).toArray();
      specs.add(SequenceSpecs.decodeToEnd(i, prompt, 24));
    }
    engine.submit(specs);
    try {
      assertTrue(finished.await(120, TimeUnit.SECONDS), "sequences did not finish: " + paths);
    } finally {
      engine.stop();
      engine.awaitTermination(10_000);
    }
    assertEquals(List.of(), failures);
    assertTrue(paths.getOrDefault("persistent+graph", 0) > 0, "decode steps replayed graphs: " + paths);
    assertTrue(paths.getOrDefault("persistent", 0) > 0, "prefill steps ran eagerly: " + paths);
  }
}
