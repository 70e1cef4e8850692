package io.decodefleet.agent.tools.parity;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.engine.StepTiming;
import io.decodefleet.kernels.reference.Argmax;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The CUDA backend against the CPU backend on the same model, seed and prompts, on each decode
 * path. The CPU backend runs the {@link ParitySchedule} once, choosing every token greedily; each
 * CUDA backend then replays exactly those batches (teacher forcing, so one disagreement does not
 * change every later step) and every sample row is compared:
 * <ul>
 *   <li>logits: ‖cuda − cpu‖₂ / ‖cpu‖₂ at most {@code tolerance} (bf16 weights, activations and KV
 *       against float32: about 1e-2, see {@link #DEFAULT_TOLERANCE}), never NaN;
 *   <li>greedy token: the same, or a near tie — the CPU's logits of the two tokens within {@code
 *       tolerance} × the row's largest |logit| — which is counted and printed, not failed;
 *   <li>the device argmax ({@link CudaBackend#forwardGreedy} on the same batch) equals the host
 *       argmax of the CUDA logits exactly;
 *   <li>the dense oracle ({@code forwardWithoutCache}) of the first sequence's first tokens.
 * </ul>
 * A mixture of experts' router is compared on its own, and the rest of each step on the CPU's
 * routing ({@link MoeRoutingParity}).
 *
 * <p>With FP8 options both backends load the same FP8 model: {@code --quantization fp8} quantizes the
 * dummy projections to the same codes and per-tensor scales on both sides (the device computes the
 * CPU's float32 values before quantizing), and {@code --kv-cache-dtype fp8} stores K/V as e4m3 on
 * both. The CPU backend is then the FP8 reference. With FP8 weights the tolerance is the bf16 one:
 * what differs is bf16 activations. Over an FP8 KV cache it is {@link #FP8_KV_TOLERANCE}: the cached
 * k and v come from bf16 projections on the device and float32 ones on the host, and wherever the
 * two fall on either side of the midpoint of two e4m3 codes (a code step is 2^-3 relative, a bf16
 * step 2^-8) they are stored as different codes. The dense oracles of both backends have no cache,
 * so no FP8 KV either.
 */
public final class ParityCheck {

  /** Default bound on the per-row relative L2 error of the logits: the CUDA backend's own tolerance. */
  public static final double DEFAULT_TOLERANCE = CudaBackend.TOLERANCE;

  /**
   * The bound over an FP8 KV cache. A bf16 rounding of K and V moves one decode attention 10× further
   * through an e4m3 cache than through a float one ({@code Fp8KvAmplificationTest}); on an H100 the
   * device's logits over an FP8 cache sat 3.3e-2 to 5.6e-2 from the CPU's FP8 reference at the prefill
   * step of tiny, tiny-qwen2, tiny-qwen3 and the MoE presets, whose bf16-cache logits pass at 3e-2.
   * A wrong slot, page or scale moves them by order 1.
   */
  public static final double FP8_KV_TOLERANCE = 8e-2;

  /**
   * The bound under fp8-dynamic. Each projection quantizes its input rows to e4m3 per token, and the device's
   * inputs are bf16 where the CPU's are float32 rounded to bf16 only there: wherever the two differ by a bf16
   * step near the midpoint of two codes, or a row's largest magnitude (its scale) differs, they hand the GEMM
   * different codes. One bf16 rounding moves a chain of four quantized projections 32x further than a plain
   * one ({@code Fp8DynamicAmplificationTest}: 5.4e-2); on an H100 the prefill step's logits sat 6.6e-2
   * (llama3-8b-2l) and 7.2e-2 (tiny) from the CPU's fp8-dynamic reference. The codes and the GEMM themselves
   * are held exactly by the self-test (CUBLASLT_GEMM, SKINNY_GEMM_FP8's x-codes rows); a wrong scale, layout
   * or code moves the logits by order 1.
   */
  public static final double FP8_DYNAMIC_TOLERANCE = 0.2;

  /** The default bound for a cache of {@code kv}: {@link #DEFAULT_TOLERANCE}, or {@link #FP8_KV_TOLERANCE}. */
  public static double defaultTolerance(KvCacheDtype kv) {
    return kv == KvCacheDtype.FP8 ? FP8_KV_TOLERANCE : DEFAULT_TOLERANCE;
  }

  /** The default bound for {@code quantization} over a cache of {@code kv}: fp8-dynamic's is the larger. */
  public static double defaultTolerance(Quantization quantization, KvCacheDtype kv) {
    return quantization == Quantization.FP8_DYNAMIC ? FP8_DYNAMIC_TOLERANCE : defaultTolerance(kv);
  }
  private static final int DENSE_TOKENS = 16;

  /**
   * @param sequences prompts (1..4)
   * @param steps tokens each sequence generates (the last of three or more stops at 10)
   * @param moeRouter a mixture of experts' routing policy on both backends (a dense model ignores it)
   */
  public record Options(ModelConfig model, long seed, int sequences, int steps, List<DecodePath> paths,
      CudaSettings settings, double tolerance, Quantization quantization, KvCacheDtype kvCacheDtype,
      MoeRouterPolicy moeRouter) {

    /** Plain top-k routing. */
    public Options(ModelConfig model, long seed, int sequences, int steps, List<DecodePath> paths,
        CudaSettings settings, double tolerance, Quantization quantization, KvCacheDtype kvCacheDtype) {
      this(model, seed, sequences, steps, paths, settings, tolerance, quantization, kvCacheDtype,
          MoeRouterPolicy.TOP_K);
    }

    /** bf16 weights and KV cache. */
    public Options(ModelConfig model, long seed, int sequences, int steps, List<DecodePath> paths,
        CudaSettings settings, double tolerance) {
      this(model, seed, sequences, steps, paths, settings, tolerance, Quantization.NONE, KvCacheDtype.AUTO);
    }

    /** The dummy weights both backends load, quantized and cached as asked. */
    ModelLoad load() {
      ModelLoad load = ModelLoad.dummy(model, seed).with(quantization, kvCacheDtype);
      return model.isMoe() ? load.with(moeRouter) : load;
    }

    /** e.g. ", fp8 weights, fp8 KV cache" or ", moe router capacity:1.25"; empty for bf16 and top-k. */
    String fp8Label() {
      return (quantization == Quantization.FP8 ? ", fp8 weights (per-tensor scales)"
          : quantization == Quantization.FP8_DYNAMIC ? ", fp8 weights (per-tensor scales) and activations (per token)"
          : "")
          + (kvCacheDtype == KvCacheDtype.FP8 ? ", fp8 KV cache" : "")
          + (model.isMoe() && moeRouter.capacityBounded() ? ", moe router " + moeRouter.label() : "");
    }
  }

  /** One decode path's comparison. */
  public record PathResult(DecodePath path, int steps, int rows, double maxRelError, int exactTokens,
      int nearTies, int mismatches, double denseRelError, Map<String, Integer> stepsByPath, String failure) {

    public boolean passed() {
      return failure.isEmpty();
    }

    /** Share of sample rows whose greedy token is the CPU backend's. */
    public double argmaxAgreement() {
      return rows == 0 ? Double.NaN : (double) exactTokens / rows;
    }
  }

  /** The whole check. */
  public record Report(String model, String device, List<PathResult> results) {
    public boolean passed() {
      return !results.isEmpty() && results.stream().allMatch(PathResult::passed);
    }
  }

  private ParityCheck() {}

  /** Runs the CPU reference, then each path on {@code gpu}, printing a row per path. */
  public static Report run(GpuInfo gpu, Options o, PrintStream out) {
    ModelConfig config = o.model();
    ParitySchedule schedule = new ParitySchedule(config.vocabSize(), o.seed(), o.sequences(), o.steps(), 16);
    out.printf(Locale.ROOT, "parity: model %s%s, seed %d, %d sequences x %d tokens, %s%n", config.name(),
        o.fp8Label(), o.seed(), o.sequences(), o.steps(), gpu.summary());
    long t0 = System.nanoTime();
    List<ForwardBatch> batches = new ArrayList<>();
    List<float[]> expected = new ArrayList<>();
    float[] denseExpected;
    int[] denseTokens;
    List<io.decodefleet.kernels.reference.MoeRouter.Routing[]> routings = new ArrayList<>();
    MoeRoutingParity moe;
    try (CpuBackend cpu = new CpuBackend(0)) {
      cpu.loadModel(o.load());
      cpu.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      batches.addAll(schedule.run(batch -> {
        float[] logits = cpu.forward(batch);
        expected.add(logits);
        routings.add(cpu.lastRouting());
        return argmaxRows(logits, batch.numSampled(), config.vocabSize());
      }));
      denseTokens = denseTokens(schedule);
      denseExpected = cpu.forwardWithoutCache(denseTokens);
      moe = config.isMoe() ? new MoeRoutingParity(routings, cpu.lastRouting()) : null;
    }
    out.printf(Locale.ROOT, "cpu reference: %d steps in %.1f s%n", batches.size(), (System.nanoTime() - t0) / 1e9);
    out.printf(Locale.ROOT, "%-17s %5s %5s %12s %22s %9s %22s %12s  %s%n", "path", "steps", "rows", "max rel err",
        "tokens same/tie/diff", "argmax =", "steps by path", "dense err", "verdict");
    List<PathResult> results = new ArrayList<>();
    for (DecodePath path : o.paths()) {
      PathResult r;
      try {
        r = runPath(gpu, o, config, schedule, batches, expected, denseTokens, denseExpected, path, out,
            moe == null ? null : new MoeRoutingParity(routings, moe.cpuDense()));
      } catch (RuntimeException e) {
        r = new PathResult(path, 0, 0, Double.NaN, 0, 0, 0, Double.NaN, Map.of(),
            e.getClass().getSimpleName() + ": " + e.getMessage());
      }
      results.add(r);
      out.printf(Locale.ROOT, "%-17s %5d %5d %12.3e %22s %8.1f%% %22s %12.3e  %s%n", path.label(), r.steps(),
          r.rows(), r.maxRelError(), r.exactTokens() + "/" + r.nearTies() + "/" + r.mismatches(),
          100 * r.argmaxAgreement(), r.stepsByPath(), r.denseRelError(), r.passed() ? "pass" : "FAIL: " + r.failure());
    }
    return new Report(config.name() + o.fp8Label(), gpu.label(), results);
  }

  private static PathResult runPath(GpuInfo gpu, Options o, ModelConfig config, ParitySchedule schedule,
      List<ForwardBatch> batches, List<float[]> expected, int[] denseTokens, float[] denseExpected,
      DecodePath path, PrintStream out, MoeRoutingParity moe) {
    int vocab = config.vocabSize();
    Map<String, Integer> byPath = new TreeMap<>();
    double worst = 0;
    int rows = 0;
    int same = 0;
    int ties = 0;
    int diff = 0;
    String failure = "";
    try (CudaBackend cuda = new CudaBackend(gpu, o.settings().withDecodePath(path))) {
      cuda.loadModel(o.load());
      cuda.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      out.println("  " + cuda.loadReport());
      for (int step = 0; step < batches.size(); step++) {
        ForwardBatch batch = batches.get(step);
        if (moe != null) moe.beforeStep(cuda, batch, step); // the router on its own, then the CPU's routing given
        float[] got = cuda.forward(batch);
        StepTiming timing = cuda.lastStepTiming();
        byPath.merge(timing.path(), 1, Integer::sum);
        int[] device = cuda.forwardGreedy(batch);
        float[] want = expected.get(step);
        for (int i = 0; i < batch.numSampled(); i++) {
          rows++;
          double rel = relL2(got, want, i * vocab, vocab);
          worst = Double.isNaN(rel) || Double.isNaN(worst) ? Double.NaN : Math.max(worst, rel);
          int cpuToken = Argmax.argmax(want, i * vocab, vocab);
          int cudaToken = Argmax.argmax(got, i * vocab, vocab);
          String where = "step " + step + " sample row " + i;
          if (!(rel <= o.tolerance()) && failure.isEmpty()) {
            failure = String.format(Locale.ROOT, "%s: logits differ by %.3e relative (tolerance %.1e)", where, rel,
                o.tolerance());
          }
          if (device[i] != cudaToken && failure.isEmpty()) {
            failure = where + ": device argmax " + device[i] + " but host argmax of the logits " + cudaToken;
          }
          if (cudaToken == cpuToken) {
            same++;
          } else if (nearTie(want, i * vocab, vocab, cpuToken, cudaToken, o.tolerance())) {
            ties++;
          } else {
            diff++;
            if (failure.isEmpty()) {
              failure = String.format(Locale.ROOT, "%s: token %d, CPU chose %d (CPU logits %.4f vs %.4f)", where,
                  cudaToken, cpuToken, want[i * vocab + cudaToken], want[i * vocab + cpuToken]);
            }
          }
        }
      }
      if (moe != null) {
        moe.beforeDense(cuda);
        out.println("  " + moe.summary());
        if (failure.isEmpty()) failure = moe.failure();
      }
      double dense = relL2(cuda.forwardWithoutCache(denseTokens), denseExpected, 0, denseExpected.length);
      if (!(dense <= o.tolerance()) && failure.isEmpty()) {
        failure = String.format(Locale.ROOT, "dense oracle: logits differ by %.3e relative", dense);
      }
      return new PathResult(path, batches.size(), rows, worst, same, ties, diff, dense, byPath, failure);
    }
  }

  /** The first sequence's first tokens (prompt, then generated) for the dense oracle. */
  private static int[] denseTokens(ParitySchedule schedule) {
    int[] all = schedule.tokensOf(0);
    return java.util.Arrays.copyOf(all, Math.min(DENSE_TOKENS, all.length));
  }

  private static int[] argmaxRows(float[] logits, int rows, int vocab) {
    int[] out = new int[rows];
    for (int i = 0; i < rows; i++) {
      out[i] = Argmax.argmax(logits, i * vocab, vocab);
    }
    return out;
  }

  /** ‖a − b‖₂ / ‖b‖₂ over {@code [offset, offset + n)}; NaN if either holds a NaN. */
  static double relL2(float[] a, float[] b, int offset, int n) {
    return io.decodefleet.agent.tools.parity.LogitsComparison.relL2(a, b, offset, n);
  }

  /** Whether the CPU's logits of its own choice and of the other token are within the tie margin. */
  static boolean nearTie(float[] cpu, int offset, int n, int cpuToken, int otherToken, double tolerance) {
    return io.decodefleet.agent.tools.parity.LogitsComparison.nearTie(cpu, offset, n, cpuToken, otherToken, tolerance);
  }
}
