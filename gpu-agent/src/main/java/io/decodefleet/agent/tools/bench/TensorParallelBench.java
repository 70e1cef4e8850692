package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorParallelBackend;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.agent.tools.parity.TensorParallelParity;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code gpu-agent bench tp}: a tensor-parallel (or, with {@code --expert-parallel}, an
 * expert-parallel) group of K GPUs against one GPU.
 *
 * <ul>
 *   <li>Parity: the {@link TensorParallelParity} schedule (prompts, chunked and mixed steps, then
 *       pure decode) on one GPU and on the group, per decode path: greedy tokens must be equal.
 *   <li>Decode step: the steady-state step of {@link StepBench} (KV of uniform noise, every
 *       sequence at one context, device argmax) on one GPU, then on the group; wall time of the
 *       engine's call per step and rank 0's device time (which includes waiting inside the
 *       all-reduces), medians after a warm-up; each beside its floor, (weight + KV bytes one
 *       device reads) / measured copy bandwidth, which for a rank is 1/K of the single GPU's.
 *   <li>Throughput: tokens per second of one GPU, of the group, and of K GPUs each running one
 *       replica (data parallelism: each a single GPU's step at batch / K, when that batch was timed).
 * </ul>
 */
public final class TensorParallelBench {

  /** What to measure. */
  public record Options(int size, List<String> parityModels, int paritySteps, String model, int[] batches,
      int context, List<DecodePath> paths, int warmup, int reps, long seed, Parallelism parallelism) {

    /** A tensor-parallel group. */
    public Options(int size, List<String> parityModels, int paritySteps, String model, int[] batches,
        int context, List<DecodePath> paths, int warmup, int reps, long seed) {
      this(size, parityModels, paritySteps, model, batches, context, paths, warmup, reps, seed, Parallelism.TENSOR);
    }
  }

  public record ParityRow(String model, String path, TensorParallelParity.Result result) {}

  /** One (tp, batch, path) point; times in µs (medians). */
  public record StepRow(int tp, int batch, String path, String ranAs, double gpuUs, double wallUs, double floorUs) {}

  public record Result(String devices, int size, double copyBytesPerUs, List<ParityRow> parity, List<StepRow> steps,
      Parallelism parallelism) {
    /** Free-running greedy tokens identical everywhere. */
    public boolean parityPassed() {
      return parity.stream().allMatch(p -> p.result().passed());
    }

    /** In lockstep, every differing token a near tie. */
    public boolean parityPassedUpToTies() {
      return parity.stream().allMatch(p -> p.result().passedUpToTies());
    }
  }

  private static final int BLOCK = 16;
  private static final Duration GROUP_TIMEOUT = Duration.ofSeconds(120);

  private TensorParallelBench() {}

  /**
   * {single device µs, group µs} wall times of each (batch, decode path) the group and one GPU both ran:
   * the points the tensor-parallel scaling of a calibration is fitted to.
   */
  public static List<double[]> pairs(Result r) {
    List<double[]> out = new ArrayList<>();
    for (StepRow g : r.steps()) {
      if (g.tp() == 1) continue;
      r.steps().stream().filter(s -> s.tp() == 1 && s.batch() == g.batch() && s.path().equals(g.path())).findFirst()
          .ifPresent(s -> out.add(new double[] {s.wallUs(), g.wallUs()}));
    }
    return out;
  }

  public static Result run(List<GpuInfo> gpus, Options o, PrintStream out) {
    if (gpus.size() < o.size()) {
      throw new IllegalArgumentException(o.parallelism().key() + "=" + o.size() + " needs " + o.size() + " GPUs, "
          + gpus.size() + " are here");
    }
    List<GpuInfo> group = gpus.subList(0, o.size());
    List<ParityRow> parity = new ArrayList<>();
    String key = o.parallelism().key();
    for (String name : o.parityModels()) {
      ModelConfig config = ModelConfig.preset(name);
      for (DecodePath path : o.paths()) {
        CudaSettings settings = CudaSettings.defaults().withDecodePath(path).withMaxGraphBatch(8);
        try (CudaBackend single = new CudaBackend(group.get(0), settings);
            TensorParallelBackend tp = groupOf(group, settings, o.parallelism())) {
          TensorParallelParity.Result r = TensorParallelParity.compare(single, tp, config, o.seed(), 4,
              o.paritySteps(), BLOCK);
          parity.add(new ParityRow(name, path.label(), r));
          out.printf(Locale.ROOT, "parity %-13s %-17s %s=%d vs one GPU: %s%n", name, path.label(), key, o.size(),
              r.describe());
        }
      }
    }
    ModelConfig full = ModelConfig.preset(o.model());
    int maxBatch = Arrays.stream(o.batches()).max().orElse(1);
    int blocksPerSeq = StepPlan.blocksFor(o.context(), BLOCK);
    int numBlocks = maxBatch * blocksPerSeq + 8;
    StepBench.Options so = new StepBench.Options(o.model(), o.batches(), o.context(), new int[0], o.paths(),
        o.warmup(), o.reps(), o.seed(), GemmTuner.Policy.AUTO);
    List<StepRow> steps = new ArrayList<>();
    double copy = Double.NaN;
    for (DecodePath path : o.paths()) {
      CudaSettings settings = CudaSettings.defaults().withDecodePath(path).withMaxGraphBatch(maxBatch)
          .withMaxStepTokens(BatchBuckets.bucketOf(maxBatch));
      for (int tp : new int[] {1, o.size()}) {
        try (Backend b = tp == 1 ? new CudaBackend(group.get(0), settings)
            : groupOf(group, settings, o.parallelism())) {
          b.loadModel(full, o.seed());
          b.allocateKvCache(numBlocks, BLOCK);
          // KV of noise on every rank, each on its own thread; the weight bytes one GPU reads.
          long weightBytes = onEachRank(b, r -> {
            r.fillKvCacheWithNoise((int) o.seed() + 1);
            return r.weightBytesReadPerStep();
          }).get(0);
          if (b instanceof CudaBackend single) {
            if (Double.isNaN(copy)) copy = single.measureCopyBytesPerUs(); // GPU 0, once
            out.println(single.loadReport());
          } else {
            out.println(key + "=" + tp + ": " + b.deviceDescription());
          }
          // An expert-parallel rank attends every row of the whole model: its KV is the whole model's.
          ModelConfig perDevice = o.parallelism() == Parallelism.EXPERT ? full : new TensorShard(0, tp).of(full);
          for (int batch : o.batches()) {
            StepBench.DecodeRow r = StepBench.decodePoint(b, perDevice, so, batch, o.context(), blocksPerSeq,
                weightBytes, copy, path, 2, false);
            StepRow row = new StepRow(tp, batch, path.label(), r.ranAs(), r.gpuUs(), r.wallUs(), r.floorUs());
            steps.add(row);
            out.printf(Locale.ROOT, "  %s=%d decode b=%-3d %-17s ran %-17s gpu %9.1f us  wall %9.1f  floor %9.1f"
                + "  x%.2f%n", key, tp, batch, path.label(), r.ranAs(), r.gpuUs(), r.wallUs(), r.floorUs(),
                r.wallUs() / r.floorUs());
          }
        }
      }
    }
    List<String> names = group.stream().map(GpuInfo::summary).toList();
    return new Result(String.join(" + ", names), o.size(), copy, parity, steps, o.parallelism());
  }

  private static TensorParallelBackend groupOf(List<GpuInfo> gpus, CudaSettings settings, Parallelism parallelism) {
    List<Supplier<Backend>> ranks = new ArrayList<>();
    for (GpuInfo g : gpus) ranks.add(() -> new CudaBackend(g, settings));
    return new TensorParallelBackend("bench", ranks, GROUP_TIMEOUT, parallelism);
  }

  /** {@code call} on every rank's backend, each on its own thread (a lone GPU: here), in rank order. */
  private static <T> List<T> onEachRank(Backend b, java.util.function.Function<CudaBackend, T> call) {
    if (b instanceof TensorParallelBackend tp) return tp.eachRank(r -> call.apply((CudaBackend) r));
    return List.of(call.apply((CudaBackend) b));
  }

  /**
   * The table: one row per (path, batch) with one GPU and the group side by side, their ratio, and
   * tokens per second of one GPU, the group, and K GPUs running a replica each (each at batch / K:
   * "-" when that batch was not timed).
   */
  public static String render(Result r) {
    StringBuilder sb = new StringBuilder();
    String key = r.parallelism().key();
    String k1 = key + "1";
    String kk = key + r.size();
    sb.append(String.format(Locale.ROOT, "%n%s parallelism on %s (copy %.2f TB/s)%n",
        r.parallelism() == Parallelism.EXPERT ? "expert" : "tensor", r.devices(), r.copyBytesPerUs() / 1e6));
    sb.append(String.format(Locale.ROOT, "%-17s %5s %12s %12s %12s %12s %10s %11s %11s %11s%n", "path", "batch",
        k1 + " wall us", k1 + " floor", kk + " wall us", kk + " floor", kk + "/" + k1, "1gpu tok/s", kk + " tok/s",
        "dp" + r.size() + " tok/s"));
    for (StepRow one : r.steps()) {
      if (one.tp() != 1) continue;
      for (StepRow k : r.steps()) {
        if (k.tp() == r.size() && k.batch() == one.batch() && k.path().equals(one.path())) {
          double dp = dataParallelTokensPerSecond(r, one);
          sb.append(String.format(Locale.ROOT, "%-17s %5d %12.1f %12.1f %12.1f %12.1f %10.2f %11.0f %11.0f %11s%n",
              one.path(), one.batch(), one.wallUs(), one.floorUs(), k.wallUs(), k.floorUs(),
              k.wallUs() / one.wallUs(), one.batch() * 1e6 / one.wallUs(), k.batch() * 1e6 / k.wallUs(),
              Double.isNaN(dp) ? "-" : String.format(Locale.ROOT, "%.0f", dp)));
        }
      }
    }
    sb.append("parity (greedy tokens, ").append(kk).append(" vs one GPU): identical ")
        .append(r.parityPassed() ? "PASS" : "FAIL").append(", up to near ties ")
        .append(r.parityPassedUpToTies() ? "PASS" : "FAIL").append('\n');
    return sb.toString();
  }

  /** The results as JSON. */
  public static String json(Result r) {
    StringBuilder sb = new StringBuilder("{\n");
    sb.append("  \"devices\": \"").append(r.devices().replace("\"", "'")).append("\",\n");
    sb.append("  \"date\": \"").append(java.time.Instant.now()).append("\",\n");
    sb.append(String.format(Locale.ROOT, "  \"parallelism\": \"%s\",%n", r.parallelism().key()));
    sb.append(String.format(Locale.ROOT, "  \"tensor_parallel\": %d,%n  \"copy_bytes_per_us\": %.1f,%n", r.size(),
        r.copyBytesPerUs()));
    sb.append("  \"parity\": [\n");
    for (int i = 0; i < r.parity().size(); i++) {
      ParityRow p = r.parity().get(i);
      sb.append(String.format(Locale.ROOT, "    {\"model\": \"%s\", \"path\": \"%s\", \"passed\": %s, \"steps\": %d,"
              + " \"sequences\": %d, \"matching\": %d, \"first_divergence\": %s, \"lockstep_rows\": %d,"
              + " \"lockstep_equal\": %d, \"lockstep_near_ties\": %d, \"lockstep_differ\": %d,"
              + " \"max_rel_error\": %.3e, \"tolerance\": %.1e}%s%n", p.model(), p.path(),
          p.result().passed(), p.result().steps(), p.result().sequences(), p.result().matching(),
          Arrays.toString(p.result().firstDivergence()), p.result().lockstep().rows(),
          p.result().lockstep().exactTokens(), p.result().lockstep().nearTies(), p.result().lockstep().mismatches(),
          p.result().lockstep().maxRelError(), p.result().lockstep().tolerance(), i + 1 < r.parity().size() ? "," : ""));
    }
    sb.append("  ],\n  \"decode\": [\n");
    for (int i = 0; i < r.steps().size(); i++) {
      StepRow s = r.steps().get(i);
      sb.append(String.format(Locale.ROOT, "    {\"tp\": %d, \"batch\": %d, \"path\": \"%s\", \"ran_as\": \"%s\","
              + " \"gpu_us\": %.1f, \"wall_us\": %.1f, \"floor_us\": %.1f}%s%n", s.tp(), s.batch(), s.path(),
          s.ranAs(), s.gpuUs(), s.wallUs(), s.floorUs(), i + 1 < r.steps().size() ? "," : ""));
    }
    return sb.append("  ]\n}\n").toString();
  }

  /**
   * Tokens per second of {@code size} GPUs each running its own replica of {@code one}'s batch /
   * size sequences: one GPU's wall time at that batch, on the same path; NaN when it was not timed.
   */
  static double dataParallelTokensPerSecond(Result r, StepRow one) {
    if (one.batch() % r.size() != 0) return Double.NaN;
    int each = one.batch() / r.size();
    for (StepRow s : r.steps()) {
      if (s.tp() == 1 && s.batch() == each && s.path().equals(one.path())) return one.batch() * 1e6 / s.wallUs();
    }
    return Double.NaN;
  }
}
