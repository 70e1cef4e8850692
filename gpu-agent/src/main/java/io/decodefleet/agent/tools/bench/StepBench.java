package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.GemmRate;
import io.decodefleet.agent.backend.cuda.HostParts;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.engine.StepFlops;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.StepTiming;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code gpu-agent bench step}: the steady-state decode step of a whole model per batch size on
 * each decode path, and the time to first token of one prompt, each beside its floor.
 *
 * <ul>
 *   <li>Decode: every sequence at the same context; the KV pool holds uniform noise (never zeros),
 *       the step writes its token's K/V and reads the whole context. Device argmax, so only token
 *       ids come back. Per step: device time (events around inputs in → tokens out), wall time of
 *       the call, host time (inputs ready → last launch returned) and the device's idle gap since
 *       the previous step; medians after a warm-up. Floor: (weight bytes read + KV bytes read) /
 *       measured device-to-device copy bandwidth; of a mixture of experts' experts, the weight bytes
 *       count those the last timed step routed a token to. With FP8 weights the weight bytes are the FP8
 *       layout's (one byte a projection weight, plus row scales; embedding rows, norms and the LM
 *       head stay bf16), with an FP8 KV cache one byte a cached element.
 *   <li>Prefill: one fresh prompt of T tokens at batch 1, wall time of the call (TTFT without the
 *       network). Floor: max(FLOPs / measured tensor-core GEMM rate, weight bytes / copy
 *       bandwidth), with FLOPs = 2 T (non-embedding matmul parameters) + the LM head's one row +
 *       causal attention 4 D Hq T(T+1)/2 per layer. Beside it: the host's time to enqueue the step
 *       and the device's idle time inside it (an eager prefill of thousands of launches is
 *       launch-bound where the first nears the device time).
 * </ul>
 */
public final class StepBench {

  /**
   * What to measure.
   *
   * @param profileSteps steps per point (decode, and each prompt length) run again eagerly with every
   *     kernel family timed between CUDA events (0: none); their mean is the point's profile
   * @param prefillPrompts per prefill point, the prompts that share its tokens in one step (1: one prompt)
   */
  public record Options(String model, int[] batches, int[] contexts, int[] prefillTokens, List<DecodePath> paths,
      int warmup, int reps, long seed, GemmTuner.Policy gemm, int profileSteps, Quantization quantization,
      KvCacheDtype kvCacheDtype, int[] prefillPrompts) {

    public Options {
      if (prefillPrompts.length != prefillTokens.length) {
        throw new IllegalArgumentException("one prompt count per prefill point");
      }
      for (int i = 0; i < prefillTokens.length; i++) {
        if (prefillPrompts[i] < 1 || prefillPrompts[i] > prefillTokens[i]) {
          throw new IllegalArgumentException("a step of " + prefillTokens[i] + " prompt tokens cannot hold "
              + prefillPrompts[i] + " prompts");
        }
      }
    }

    /** Every prefill point one prompt. */
    public Options(String model, int[] batches, int[] contexts, int[] prefillTokens, List<DecodePath> paths,
        int warmup, int reps, long seed, GemmTuner.Policy gemm, int profileSteps, Quantization quantization,
        KvCacheDtype kvCacheDtype) {
      this(model, batches, contexts, prefillTokens, paths, warmup, reps, seed, gemm, profileSteps, quantization,
          kvCacheDtype, ones(prefillTokens.length));
    }

    private static int[] ones(int n) {
      int[] a = new int[n];
      Arrays.fill(a, 1);
      return a;
    }

    /** KV blocks the prefill points need at most (each prompt's own blocks). */
    public int prefillBlocks(int blockSize) {
      int most = 0;
      for (int i = 0; i < prefillTokens.length; i++) {
        most = Math.max(most, StepPlan.blocksFor(prefillTokens[i], blockSize) + prefillPrompts[i]);
      }
      return most;
    }

    /** Options that profile no step, every decode point at one context. */
    public Options(String model, int[] batches, int context, int[] prefillTokens, List<DecodePath> paths, int warmup,
        int reps, long seed, GemmTuner.Policy gemm) {
      this(model, batches, new int[] {context}, prefillTokens, paths, warmup, reps, seed, gemm, 0);
    }

    /** The longest context of the decode points. */
    public int maxContext() {
      return Arrays.stream(contexts).max().orElse(1);
    }

    /** bf16 weights and KV cache. */
    public Options(String model, int[] batches, int[] contexts, int[] prefillTokens, List<DecodePath> paths,
        int warmup, int reps, long seed, GemmTuner.Policy gemm, int profileSteps) {
      this(model, batches, contexts, prefillTokens, paths, warmup, reps, seed, gemm, profileSteps, Quantization.NONE,
          KvCacheDtype.AUTO);
    }

    /** Bytes of one cached K or V element: 1 with an FP8 cache, else 2 (bf16). */
    public int kvElementBytes() {
      return kvCacheDtype == KvCacheDtype.FP8 ? 1 : 2;
    }

    /** e.g. " (fp8 weights, fp8 KV cache)"; empty for bf16. */
    public String dtypeLabel() {
      String w = switch (quantization) {
        case NONE -> "";
        case FP8 -> "fp8 weights";
        case FP8_DYNAMIC -> "fp8 weights and activations";
      };
      String kv = kvCacheDtype == KvCacheDtype.FP8 ? "fp8 KV cache" : "";
      return w.isEmpty() && kv.isEmpty() ? "" : " (" + w + (w.isEmpty() || kv.isEmpty() ? "" : ", ") + kv + ")";
    }
  }

  /**
   * One (batch, context, path) point; times in µs (medians); its kernel-family profile, or null. A
   * backend without a device clock (the CPU) has NaN device and gap times and its wall time as host time.
   */
  public record DecodeRow(int batch, int context, String path, String ranAs, double gpuUs, double wallUs,
      double hostUs, double gapUs, double floorUs, StepProfile profile, double[] hostPartsUs) {

    /** A row without the host time's parts (a backend or path that does not split it). */
    public DecodeRow(int batch, int context, String path, String ranAs, double gpuUs, double wallUs, double hostUs,
        double gapUs, double floorUs, StepProfile profile) {
      this(batch, context, path, ranAs, gpuUs, wallUs, hostUs, gapUs, floorUs, profile, null);
    }
  }

  /**
   * One prompt length; times in µs (medians): the call's wall time (TTFT), device time, the host's
   * time to enqueue the step's launches and the device's idle time inside the step (NaN where the
   * backend has no device clock), and its kernel-family profile (null unless profiled).
   */
  public record PrefillRow(int tokens, double ttftUs, double gpuUs, double floorUs, double flops, double hostUs,
      double gapUs, StepProfile profile, int prompts) {

    /** One prompt. */
    public PrefillRow(int tokens, double ttftUs, double gpuUs, double floorUs, double flops, double hostUs,
        double gapUs, StepProfile profile) {
      this(tokens, ttftUs, gpuUs, floorUs, flops, hostUs, gapUs, profile, 1);
    }

    /** A row without host time, idle gap or profile (a backend without a device clock). */
    public PrefillRow(int tokens, double ttftUs, double gpuUs, double floorUs, double flops) {
      this(tokens, ttftUs, gpuUs, floorUs, flops, Double.NaN, Double.NaN, null);
    }

    /** e.g. "2048" (one prompt) or "8192 in 64 prompts". */
    public String label() {
      return prompts == 1 ? String.valueOf(tokens) : tokens + " in " + prompts + " prompts";
    }
  }

  /**
   * Everything measured, with the ceilings the floors came from, and the engine's defaults on this
   * device (its KV pool sized from memory, batching caps, prefix caching).
   */
  public record Result(String model, String device, double copyBytesPerUs, double gemmFlopsPerUs, String gemmShape,
      long weightBytesRead, List<DecodeRow> decode, List<PrefillRow> prefill, Map<String, String> loads,
      StepCalibration.EngineDefaults defaults, double busyCores) {

    /** A result whose steps' CPU use was not measured (a device's steps). */
    public Result(String model, String device, double copyBytesPerUs, double gemmFlopsPerUs, String gemmShape,
        long weightBytesRead, List<DecodeRow> decode, List<PrefillRow> prefill, Map<String, String> loads,
        StepCalibration.EngineDefaults defaults) {
      this(model, device, copyBytesPerUs, gemmFlopsPerUs, gemmShape, weightBytesRead, decode, prefill, loads, defaults,
          Double.NaN);
    }
  }

  private static final int BLOCK = 16;
  private static final int[] GEMM_SHAPE = {8192, 4096, 4096}; // m, n, k

  private StepBench() {}

  public static Result run(GpuInfo gpu, Options o, PrintStream out) {
    ModelConfig config = ModelConfig.preset(o.model());
    int maxBatch = Arrays.stream(o.batches()).max().orElse(1);
    int maxPrompt = Arrays.stream(o.prefillTokens()).max().orElse(1);
    int blocksPerSeq = StepPlan.blocksFor(o.maxContext(), BLOCK);
    int numBlocks = maxBatch * blocksPerSeq + o.prefillBlocks(BLOCK) + 8;
    List<DecodeRow> decode = new ArrayList<>();
    List<PrefillRow> prefill = new ArrayList<>();
    Map<String, String> loads = new LinkedHashMap<>();
    double copy = Double.NaN;
    double gemm = Double.NaN;
    String gemmBy = "";
    long weightBytes = 0;
    StepCalibration.EngineDefaults defaults = null;
    for (DecodePath path : o.paths()) {
      CudaSettings settings = CudaSettings.defaults().withDecodePath(path).withGemm(o.gemm()).withMaxGraphBatch(maxBatch)
          .withMaxStepTokens(Math.max(maxPrompt, BatchBuckets.bucketOf(maxBatch)));
      try (CudaBackend b = new CudaBackend(gpu, settings)) {
        b.loadModel(ModelLoad.dummy(config, o.seed()).with(o.quantization(), o.kvCacheDtype()));
        if (defaults == null) {
          // Before the bench's own pool: what an agent would size from this GPU's memory.
          defaults = new StepCalibration.EngineDefaults(b.kvBlockCapacity(BLOCK), b.defaultMaxNumSeqs(),
              b.defaultMaxBatchedTokens(), b.defaultPrefixCaching());
        }
        b.allocateKvCache(numBlocks, BLOCK);
        b.fillKvCacheWithNoise((int) o.seed() + 1);
        loads.put(path.label(), b.loadReport());
        out.println(b.loadReport());
        if (Double.isNaN(copy)) {
          copy = b.measureCopyBytesPerUs();
          GemmRate.Rate rate = b.measureGemm(GEMM_SHAPE[0], GEMM_SHAPE[1], GEMM_SHAPE[2]);
          gemm = rate.flopsPerUs();
          gemmBy = rate.by();
          weightBytes = b.weightBytesReadPerStep();
          out.printf(Locale.ROOT, "copy %.2f TB/s, best %s GEMM %dx%dx%d %.0f TFLOP/s (%s)%n", copy / 1e6,
              GemmRate.kind(gemmBy), GEMM_SHAPE[0], GEMM_SHAPE[1], GEMM_SHAPE[2], gemm / 1e6, gemmBy);
          out.printf(Locale.ROOT, "floor bytes%s: weights %.3f GB a step%s, KV %.1f KiB a token of context%n",
              o.dtypeLabel(), weightBytes / 1e9, config.isMoe() ? " at one token (each row: the experts its step"
                  + " routed to)" : "", config.kvBytesPerToken(o.kvElementBytes()) / 1024.0);
        }
        for (int context : o.contexts()) {
          for (int batch : o.batches()) {
            DecodeRow r = decodePoint(b, config, o, batch, context, blocksPerSeq, weightBytes, copy, path,
                o.kvElementBytes(), false);
            decode.add(r);
            printDecode(out, r);
          }
        }
        if (prefill.isEmpty()) {
          for (int i = 0; i < o.prefillTokens().length; i++) {
            PrefillRow r = prefillPoint(b, config, o, o.prefillTokens()[i], o.prefillPrompts()[i],
                maxBatch * blocksPerSeq, weightBytes, copy, gemm);
            prefill.add(r);
            printPrefill(out, r);
          }
        }
      }
    }
    return new Result(config.name() + o.dtypeLabel(), gpu.summary(), copy, gemm, GEMM_SHAPE[0] + "x" + GEMM_SHAPE[1]
        + "x" + GEMM_SHAPE[2] + " by " + gemmBy, weightBytes, decode, prefill, loads, defaults);
  }

  /**
   * One decode point on any backend (one GPU or a tensor-parallel group).
   *
   * @param c the model one device holds (a rank's shard in a group): its KV bytes go into the floor
   * @param weightBytes weight bytes one device reads per step
   */
  static void printDecode(PrintStream out, DecodeRow r) {
    double time = Double.isFinite(r.gpuUs()) ? r.gpuUs() : r.wallUs();
    out.printf(Locale.ROOT, "  decode b=%-3d ctx %-5d %-17s ran %-17s gpu %9.1f us  wall %9.1f  host %8.1f  gap %7.1f"
        + "  floor %9.1f  x%.2f%n", r.batch(), r.context(), r.path(), r.ranAs(), r.gpuUs(), r.wallUs(), r.hostUs(),
        r.gapUs(), r.floorUs(), time / r.floorUs());
    if (r.hostPartsUs() != null) out.println("      host " + hostParts(r.hostPartsUs()));
    if (r.profile() != null) printProfile(out, r.profile());
  }

  /** e.g. "plan 12.1 us, attention plan 20.3 us, pack 27.0 us, copy 6.2 us, launch 31.4 us" (medians). */
  public static String hostParts(double[] us) {
    List<String> parts = new ArrayList<>();
    for (int k = 0; k < us.length; k++) {
      parts.add(String.format(Locale.ROOT, "%s %.1f us", HostParts.NAMES.get(k), us[k]));
    }
    return String.join(", ", parts);
  }

  static void printPrefill(PrintStream out, PrefillRow r) {
    out.printf(Locale.ROOT, "  prefill T=%-5s TTFT %10.1f us  gpu %10.1f  floor %10.1f  x%.2f%s%n", r.label(), r.ttftUs(),
        r.gpuUs(), r.floorUs(), r.ttftUs() / r.floorUs(), Double.isFinite(r.hostUs())
            ? String.format(Locale.ROOT, "  host %.1f  gap %.1f", r.hostUs(), r.gapUs()) : "");
    if (r.profile() != null) printProfile(out, r.profile());
  }

  /**
   * @param context every sequence's context (its token's position + 1)
   * @param kvElementBytes bytes per stored KV element: 2 (bf16) or 1 (FP8) on CUDA, 4 (float32) on the CPU
   * @param contiguousPages each sequence's pages in one run, as an engine that admits whole prompts
   *     allocates them (the CPU bench: the host's caches see that locality in a real run too); false:
   *     neighbouring pages belong to different sequences (the GPU bench: no L2 locality flatters the kernel)
   */
  static DecodeRow decodePoint(io.decodefleet.agent.engine.Backend b, ModelConfig c, Options o, int batch,
      int context, int blocksPerSeq, long weightBytes, double copy, DecodePath path, int kvElementBytes,
      boolean contiguousPages) {
    Random r = new Random(o.seed() + batch);
    int pos = context - 1;
    int[] tokens = new int[batch];
    int[] positions = new int[batch];
    int[] slots = new int[batch];
    int[][] tables = new int[batch][];
    int[] ctx = new int[batch];
    int[] sample = new int[batch];
    // Contiguous: sequence s holds the s-th run of the pages its context needs, packed from page 0.
    int used = contiguousPages ? (context + BLOCK - 1) / BLOCK : blocksPerSeq;
    for (int s = 0; s < batch; s++) {
      int[] table = new int[used];
      for (int i = 0; i < used; i++) {
        table[i] = contiguousPages ? s * used + i : i * batch + s;
      }
      tokens[s] = r.nextInt(c.vocabSize());
      positions[s] = pos;
      slots[s] = table[pos / BLOCK] * BLOCK + pos % BLOCK;
      tables[s] = table;
      ctx[s] = context;
      sample[s] = s;
    }
    ForwardBatch step = new ForwardBatch(tokens, positions, slots, tables, ctx, sample);
    for (int i = 0; i < o.warmup(); i++) {
      b.forwardGreedy(step);
    }
    double[] gpu = new double[o.reps()];
    double[] wall = new double[o.reps()];
    double[] host = new double[o.reps()];
    double[] gap = new double[o.reps()];
    String ranAs = "";
    double[][] parts = new double[HostParts.NAMES.size()][o.reps()];
    boolean split = b instanceof CudaBackend;
    for (int i = 0; i < o.reps(); i++) {
      long t0 = System.nanoTime();
      b.forwardGreedy(step);
      wall[i] = (System.nanoTime() - t0) / 1e3;
      double[] p = split ? ((CudaBackend) b).lastHostPartsMicros() : null;
      split = p != null;
      for (int k = 0; split && k < p.length; k++) parts[k][i] = p[k];
      StepTiming t = b.lastStepTiming(); // null: a backend without a device clock ran it on the host
      gpu[i] = t == null ? Double.NaN : t.gpuMicros();
      host[i] = t == null ? wall[i] : t.hostNanos() / 1e3;
      gap[i] = t == null ? Double.NaN : t.idleGapMicros();
      ranAs = t == null ? b.name() : t.path();
    }
    long kvBytes = (long) batch * context * c.kvBytesPerToken(kvElementBytes);
    // A mixture of experts reads the experts its tokens reached: the last timed step's routing says which.
    long stepWeights = b instanceof CudaBackend cb && b.lastExpertLoad() != null
        ? cb.weightBytesReadPerStep(b.lastExpertLoad()) : weightBytes;
    double floor = (stepWeights + kvBytes) / copy;
    StepProfile profile = null;
    if (o.profileSteps() > 0 && b.profileUnsupported().isEmpty()) {
      SamplingParams[] greedy = new SamplingParams[batch];
      Arrays.fill(greedy, SamplingParams.GREEDY);
      List<StepProfile> runs = new ArrayList<>();
      for (int i = 0; i < o.profileSteps(); i++) runs.add(b.forwardProfiled(step, greedy, positions).profile());
      profile = StepProfile.mean(runs);
    }
    double[] hostParts = null;
    if (split) {
      hostParts = new double[parts.length];
      for (int k = 0; k < parts.length; k++) hostParts[k] = median(parts[k]);
    }
    return new DecodeRow(batch, context, path == null ? b.name() : path.label(), ranAs, median(gpu), median(wall),
        median(host), median(gap), floor, profile, hostParts);
  }

  /** One line per kernel family that ran: µs per step, share of the profiled step, floor. */
  private static void printProfile(PrintStream out, StepProfile p) {
    out.printf(Locale.ROOT, "    profiled (eager, events between families): step %.1f us%n", p.stepMicros());
    for (KernelFamily f : KernelFamily.ALL) {
      double us = p.familyMicros().get(f.ordinal());
      if (us == 0) continue;
      double floor = p.floorMicros().get(f.ordinal());
      out.printf(Locale.ROOT, "      %-15s %9.1f us  %5.1f%%  floor %s%n", f.key(), us, 100 * us / p.stepMicros(),
          Double.isFinite(floor) ? String.format(Locale.ROOT, "%.1f us", floor) : "-");
    }
  }

  /** One prompt of {@code t} tokens on any backend; a backend without a device clock has NaN device time. */
  static PrefillRow prefillPoint(io.decodefleet.agent.engine.Backend b, ModelConfig c, Options o, int t, int firstBlock,
      long weightBytes, double copy, double gemm) {
    return prefillPoint(b, c, o, t, 1, firstBlock, weightBytes, copy, gemm);
  }

  /**
   * One step of {@code t} prompt tokens split over {@code prompts} fresh prompts (as {@link #prompts});
   * only a one-prompt point is profiled.
   */
  static PrefillRow prefillPoint(io.decodefleet.agent.engine.Backend b, ModelConfig c, Options o, int t, int prompts,
      int firstBlock, long weightBytes, double copy, double gemm) {
    Random r = new Random(o.seed() - t);
    int[] tokens = new int[t];
    for (int i = 0; i < t; i++) {
      tokens[i] = r.nextInt(c.vocabSize());
    }
    ForwardBatch prompt = PromptSteps.prompts(tokens, prompts, firstBlock);
    int reps = Math.max(3, o.reps() / 10);
    for (int i = 0; i < 2; i++) {
      b.forwardGreedy(prompt);
    }
    double[] wall = new double[reps];
    double[] gpu = new double[reps];
    double[] host = new double[reps];
    double[] gap = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      b.forwardGreedy(prompt);
      wall[i] = (System.nanoTime() - t0) / 1e3;
      StepTiming timing = b.lastStepTiming();
      gpu[i] = timing == null ? Double.NaN : timing.gpuMicros();
      host[i] = timing == null ? Double.NaN : timing.hostNanos() / 1e3;
      gap[i] = timing == null ? Double.NaN : timing.idleGapMicros();
    }
    double flops = PromptSteps.prefillFlops(c, t, prompts);
    double floor = Double.isFinite(gemm) ? Math.max(flops / gemm, weightBytes / copy) : weightBytes / copy;
    StepProfile profile = null;
    if (prompts == 1 && o.profileSteps() > 0 && b.profileUnsupported().isEmpty()) {
      // The same prompt again, its launches split by kernel family; floors by bytes or by FLOPs at the
      // device's best matmul rate, whichever is larger.
      SamplingParams[] greedy = {SamplingParams.GREEDY};
      int[] last = {t - 1};
      List<StepProfile> runs = new ArrayList<>();
      for (int i = 0; i < o.profileSteps(); i++) runs.add(b.forwardProfiled(prompt, greedy, last).profile());
      profile = StepProfile.mean(runs).withComputeFloors(StepFlops.of(c, prompt), gemm);
    }
    return new PrefillRow(t, median(wall), median(gpu), floor, flops, median(host), median(gap), profile, prompts);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  }
}
