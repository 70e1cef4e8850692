package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.StepProfile;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorParallelBackend;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code gpu-agent bench step --backend cpu}: the decode and prefill points of {@link StepBench} on the
 * float32 CPU backend, each timed as a whole engine step on the wall clock ({@link EngineSteps}:
 * schedule, the runner's batch, the forward, update) — what an agent's engine thread spends on a step
 * of that batch or prompt. The floors divide the bytes a step must read (weights once, every row's KV)
 * by the host's measured {@code System.arraycopy} bandwidth; there is no tensor-core rate, so a
 * prefill's floor is its weight bytes alone.
 *
 * <p>Run it on an otherwise idle machine: the step times of a shared host measure its other work too.
 */
public final class CpuStepBench {
  private static final int BLOCK = 16;
  private static final long WARM_UP_NANOS = 5_000_000_000L;
  /** Limit for an expert-parallel replica's ranks to form and for each of their steps. */
  private static final java.time.Duration GROUP_TIMEOUT = java.time.Duration.ofSeconds(120);

  private CpuStepBench() {}

  public static StepBench.Result run(StepBench.Options o, PrintStream out) {
    return run(o, out, StepBenchCalibration.Replica.ONE);
  }

  /**
   * As {@link #run(StepBench.Options, PrintStream)} on one replica of K CPU ranks splitting the model's
   * experts (ep=K) or heads and MLP columns (tp=K): rank threads of this process, as an agent of {@code
   * gpu-agent --devices cpu --expert-parallel K} (or {@code --tensor-parallel K}) runs them.
   */
  public static StepBench.Result run(StepBench.Options o, PrintStream out, StepBenchCalibration.Replica replica) {
    ModelConfig config = ModelConfig.preset(o.model());
    int maxBatch = Arrays.stream(o.batches()).max().orElse(1);
    int maxPrompt = Arrays.stream(o.prefillTokens()).max().orElse(1);
    int blocksPerSeq = (o.maxContext() + BLOCK - 1) / BLOCK;
    int numBlocks = maxBatch * blocksPerSeq + o.prefillBlocks(BLOCK) + 8;
    long kvBytes = config.kvBytesPerToken(Float.BYTES) * BLOCK * numBlocks;
    Backend b = replica.devices() == 1 ? new CpuBackend(kvBytes) : rankReplica(kvBytes, replica);
    b.loadModel(config, o.seed());
    b.allocateKvCache(numBlocks, BLOCK);
    double copy = CpuBackend.copyBandwidth();
    long embed = (long) config.vocabSize() * config.hiddenSize();
    // Every weight is read once a step except the embedding (rows gathered), unless it is also the head.
    long weightBytes = (config.parameterCount() - (config.tieWordEmbeddings() ? 0 : embed)) * Float.BYTES;
    out.printf(Locale.ROOT, "%s, model %s: weights %.1f MiB read per step, copy %.2f GB/s%n", b.deviceDescription(),
        config.name(), weightBytes / 1048576.0, copy / 1e3);
    // The JIT compiles the engine's and the kernels' loops while they run: a few seconds of the largest
    // points first, so the first points measured are not the interpreter's.
    int vocab = config.vocabSize();
    long until = System.nanoTime() + WARM_UP_NANOS;
    while (System.nanoTime() < until) {
      EngineSteps.decode(b, vocab, numBlocks, BLOCK, maxBatch, o.maxContext(), 0, 1, o.seed());
      EngineSteps.prefill(b, vocab, numBlocks, BLOCK, Math.min(maxPrompt, 256), 0, 1, o.seed());
    }
    // The process's CPU over the decode grid per second of it: the cores one step keeps busy (about 1 for
    // one engine thread; between 1 and K for K rank threads that wait on each other's exchanges).
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long wall0 = System.nanoTime();
    List<StepBench.DecodeRow> decode = new ArrayList<>();
    for (int context : o.contexts()) {
      for (int batch : o.batches()) {
        double wall = EngineSteps.decode(b, vocab, numBlocks, BLOCK, batch, context, o.warmup(), o.reps(), o.seed());
        double floor = (weightBytes + (double) batch * context * config.kvBytesPerToken(Float.BYTES)) / copy;
        StepProfile profile = o.profileSteps() == 0 ? null : StepBench.decodePoint(b, config, o, batch, context,
            blocksPerSeq, weightBytes, copy, null, Float.BYTES, true).profile();
        StepBench.DecodeRow r = new StepBench.DecodeRow(batch, context, "cpu", "cpu", Double.NaN, wall, wall,
            Double.NaN, floor, profile);
        decode.add(r);
        StepBench.printDecode(out, r);
      }
    }
    double busyCores = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - wall0);
    if (busyCores > 0) {
      out.printf(Locale.ROOT, "decode grid: %.2f cores busy (process CPU over wall time)%n", busyCores);
    } else {
      // A grid shorter than the process CPU clock's tick reads 0: not measured, rather than a false 0.
      busyCores = Double.NaN;
      out.println("decode grid: too short to measure the cores it keeps busy");
    }
    List<StepBench.PrefillRow> prefill = new ArrayList<>();
    int prefillReps = Math.max(3, o.reps() / 3);
    for (int i = 0; i < o.prefillTokens().length; i++) {
      int t = o.prefillTokens()[i];
      int prompts = o.prefillPrompts()[i];
      StepBench.PrefillRow r;
      if (prompts == 1) {
        double wall = EngineSteps.prefill(b, vocab, numBlocks, BLOCK, t, 2, prefillReps, o.seed());
        r = new StepBench.PrefillRow(t, wall, Double.NaN, weightBytes / copy, PromptSteps.prefillFlops(config, t));
      } else {
        // Several prompts in one step: the batch straight to the backend, their blocks after the decode grid's
        // (no device clock, no matmul rate: NaN device times, the floor the weights' bytes over the copy rate).
        r = StepBench.prefillPoint(b, config, o, t, prompts, maxBatch * blocksPerSeq, weightBytes, copy, Double.NaN);
      }
      prefill.add(r);
      StepBench.printPrefill(out, r);
    }
    b.close();
    // An agent's defaults: its KV pool from the CPU backend's default memory, its batching caps (an
    // expert-parallel replica's pool is one rank's: its ranks share block ids).
    CpuBackend agent = new CpuBackend();
    agent.loadModel(config, o.seed());
    StepCalibration.EngineDefaults defaults = new StepCalibration.EngineDefaults(agent.kvBlockCapacity(BLOCK),
        agent.defaultMaxNumSeqs(), agent.defaultMaxBatchedTokens(), agent.defaultPrefixCaching());
    agent.close();
    return new StepBench.Result(config.name(), b.deviceDescription(), copy, Double.NaN, "none (CPU)", weightBytes,
        decode, prefill, Map.of("cpu", replica.devices() == 1 ? "float32 reference, one engine thread"
            : "float32 reference, " + replica.label() + " rank threads"), defaults, busyCores);
  }

  private static Backend rankReplica(long kvBytes, StepBenchCalibration.Replica replica) {
    List<Supplier<Backend>> factories = new ArrayList<>();
    for (int r = 0; r < replica.devices(); r++) factories.add(() -> new CpuBackend(kvBytes));
    return new TensorParallelBackend("bench", factories, GROUP_TIMEOUT,
        replica.expert() ? Parallelism.EXPERT : Parallelism.TENSOR);
  }

}
