package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.agent.tools.bench.CpuStepBench;
import io.decodefleet.agent.tools.bench.StepBench;
import io.decodefleet.agent.tools.bench.StepBenchCalibration;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpu-agent bench step}: the whole model's decode step per batch (and context) on every decode
 * path, and prefill time to first token, each beside its floor; on a GPU or, with {@code --backend
 * cpu}, on the CPU backend. {@code --calibration-out} writes the points as the step-time calibration
 * of the fleet simulation. Exit 0 after a run, 1 when it fails, 2 on bad arguments, 3 without a GPU.
 */
@Command(name = "step", mixinStandardHelpOptions = true,
    description = "Times the steady-state decode step (dummy weights, every sequence at one context) per batch"
        + " on each decode path, and the TTFT of one prompt per length; prints device, wall, host and idle-gap"
        + " times beside the floors from the measured copy bandwidth and GEMM rate.")
public final class BenchStepCommand implements Callable<Integer> {

  @Option(names = "--model", defaultValue = "llama3-8b", description = "Model preset (default: ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--batches", split = ",", defaultValue = "1,8,32,64",
      description = "Decode batch sizes (default: ${DEFAULT-VALUE}).")
  private List<Integer> batches;

  @Option(names = "--context", split = ",", defaultValue = "1024", description = "Context of every sequence of a decode"
      + " point; several (e.g. 128,512,2048) measure each batch at each (default: ${DEFAULT-VALUE}).")
  private List<Integer> contexts;

  @Option(names = "--backend", defaultValue = "cuda", description = "cuda (GPU --gpu, every --decode-paths) or cpu "
      + "(the float32 CPU backend on one engine thread, wall time; --decode-paths and --gemm do not apply) (default: "
      + "${DEFAULT-VALUE}).")
  private String backend;

  @Option(names = "--calibration-out", paramLabel = "FILE.json", description = "Also write the points as a step-time "
      + "calibration for `coordinator simulate --calibration` (docs/simulation.md).")
  private Path calibrationOut;

  @Option(names = "--message-us", defaultValue = "0", description = "With --calibration-out: the one-way time of a "
      + "message between the coordinator and an agent, µs, which the calibration adds to each sequence's dispatch and "
      + "each step's report (default: ${DEFAULT-VALUE}).")
  private double messageMicros;

  @Option(names = "--prefill", split = ",", defaultValue = "128,512,2048", paramLabel = "T|TxK",
      description = "Prompt lengths for TTFT; TxK: one step of T prompt tokens shared by K fresh prompts, which the "
          + "calibration uses to price a step's prompt tokens together (default: ${DEFAULT-VALUE}).")
  private List<String> prefill;

  @Option(names = "--decode-paths", split = ",", defaultValue = "eager,graph,persistent,persistent+graph",
      description = "Decode paths (default: ${DEFAULT-VALUE}).")
  private List<String> paths;

  @Option(names = "--gemm", defaultValue = "auto",
      description = "GEMMs of the projections: auto (the fastest of ours and cuBLASLt per shape), ours, cublaslt"
          + " or skinny2 (our second skinny GEMM wherever it applies) (default: ${DEFAULT-VALUE}).")
  private String gemm;

  @Option(names = "--reps", defaultValue = "50", description = "Timed decode steps per point (default: ${DEFAULT-VALUE}).")
  private int reps;

  @Option(names = "--profile-steps", paramLabel = "N", defaultValue = "0", description = "Also run N steps per point"
      + " (decode, and each prompt length) eagerly with CUDA events between kernel families (attention, each GEMM,"
      + " norms, RoPE/KV append, sampling) and print each family's time, share and floor; a prompt's floors are"
      + " bytes or FLOPs at the best matmul rate, whichever is larger (default: ${DEFAULT-VALUE}, none).")
  private int profileSteps;

  @Option(names = "--gpu", defaultValue = "0", description = "GPU (default: ${DEFAULT-VALUE}).")
  private int gpu;

  @Option(names = "--quantization", defaultValue = "none",
      description = "none, fp8 or fp8-dynamic: the projections as FP8 e4m3 (per-tensor scales), run by the FP8 GEMMs"
          + " (fp8-dynamic: activations quantized per token, FP8 x FP8 GEMMs); the floor counts their bytes"
          + " (default: ${DEFAULT-VALUE}).")
  private String quantization;

  @Option(names = "--kv-cache-dtype", defaultValue = "auto",
      description = "auto (bf16) or fp8: the KV pool as FP8 e4m3; the floor counts one byte an element (default:"
          + " ${DEFAULT-VALUE}).")
  private String kvCacheDtype;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
  private Path outFile;

  @Option(names = "--expert-parallel", split = ",", defaultValue = "1", paramLabel = "K[,K...]",
      description = "--backend cpu, a mixture of experts: also time one replica of K CPU rank threads splitting the "
          + "experts (ep=K), each K in turn (1: one backend); --calibration-out then holds a table per K "
          + "(default: ${DEFAULT-VALUE}).")
  private List<Integer> expertParallel;

  @Option(names = "--tensor-parallel", split = ",", defaultValue = "1", paramLabel = "K[,K...]",
      description = "--backend cpu: also time one replica of K CPU rank threads splitting the heads and MLP columns "
          + "(tp=K), each K in turn (1: one backend); --calibration-out then holds a table per K "
          + "(default: ${DEFAULT-VALUE}).")
  private List<Integer> tensorParallel;

  @Spec
  private CommandSpec spec;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  /** The replicas to time, in order: one backend (when a size 1 is asked), then each tp=K, then each ep=K. */
  private List<StepBenchCalibration.Replica> replicas;

  private List<StepBenchCalibration.Replica> replicas(ModelConfig config) {
    List<StepBenchCalibration.Replica> out = new ArrayList<>();
    if (tensorParallel.contains(1) || expertParallel.contains(1)) out.add(StepBenchCalibration.Replica.ONE);
    for (boolean expert : new boolean[] {false, true}) {
      List<Integer> sizes = expert ? expertParallel : tensorParallel;
      String flag = expert ? "--expert-parallel" : "--tensor-parallel";
      if (sizes.stream().distinct().count() != sizes.size()) {
        throw new IllegalArgumentException(flag + " lists a size twice: " + sizes);
      }
      for (int k : sizes) {
        if (k < 1) throw new IllegalArgumentException(flag + " must be >= 1, got " + k);
        if (k == 1) continue;
        if (!backend.equals("cpu")) {
          throw new IllegalArgumentException(flag + " applies to --backend cpu (on GPUs, gpu-agent bench tp " + flag
              + " K times a K-GPU replica against one device)");
        }
        Optional<String> cannot = expert ? ExpertShard.unsplittable(config, k) : TensorShard.unsplittable(config, k);
        if (cannot.isPresent()) throw new IllegalArgumentException(flag + " " + k + ": " + cannot.get());
        out.add(new StepBenchCalibration.Replica(k, expert));
      }
    }
    return out;
  }

  @Override
  public Integer call() {
    List<DecodePath> chosen = new ArrayList<>();
    GemmTuner.Policy policy;
    Fp8Options fp8;
    int[][] prefillPoints;
    try {
      policy = GemmTuner.Policy.parse(gemm);
      fp8 = Fp8Options.parse(quantization, kvCacheDtype);
      for (String p : paths) {
        chosen.add(DecodePath.parse(p));
      }
      ModelConfig config = ModelConfig.preset(model);
      prefillPoints = prefillPoints(prefill);
      if (contexts.stream().anyMatch(c -> c < 1) || reps < 1 || batches.stream().anyMatch(b -> b < 1)) {
        throw new IllegalArgumentException("--context, --reps, --batches and --prefill must be >= 1");
      }
      if (profileSteps < 0) throw new IllegalArgumentException("--profile-steps must be >= 0, got " + profileSteps);
      if (!backend.equals("cuda") && !backend.equals("cpu")) {
        throw new IllegalArgumentException("--backend must be cuda or cpu, got '" + backend + "'");
      }
      boolean anyFp8 = fp8.quantization() != ModelSpec.Quantization.NONE
          || fp8.kvCacheDtype() != ModelSpec.KvCacheDtype.AUTO;
      if (anyFp8 && backend.equals("cpu")) {
        throw new IllegalArgumentException("--quantization and --kv-cache-dtype apply to --backend cuda only");
      }
      if (anyFp8 && calibrationOut != null) {
        // The simulation models bf16 weights and KV only (coordinator simulate refuses the FP8 options).
        throw new IllegalArgumentException("--calibration-out records bf16 step times only: leave out --quantization "
            + "and --kv-cache-dtype");
      }
      if (!(messageMicros >= 0) || Double.isInfinite(messageMicros)) {
        throw new IllegalArgumentException("--message-us must be >= 0, got " + messageMicros);
      }
      replicas = replicas(config);
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench step: " + e.getMessage());
      return 2;
    }
    StepBench.Options options = new StepBench.Options(model, batches.stream().mapToInt(Integer::intValue).toArray(),
        contexts.stream().mapToInt(Integer::intValue).toArray(), prefillPoints[0], chosen, 10, reps, 1234L, policy,
        profileSteps, fp8.quantization(), fp8.kvCacheDtype(), prefillPoints[1]);
    StepBench.Result r;
    Map<StepBenchCalibration.Replica, StepBench.Result> byReplica = new LinkedHashMap<>();
    if (backend.equals("cpu")) {
      for (StepBenchCalibration.Replica replica : replicas) {
        if (replica.devices() > 1) out.println(replica.label() + ":");
        byReplica.put(replica, CpuStepBench.run(options, out, replica));
      }
      r = byReplica.values().iterator().next();
      for (Map.Entry<StepBenchCalibration.Replica, StepBench.Result> e : byReplica.entrySet()) {
        if (e.getValue() != r) out.print(e.getKey().label() + ":\n" + StepBenchTable.render(e.getValue()));
      }
    } else {
      DevicePreflight preflight = DevicePreflight.check("gpu-agent bench step", out, gpu);
      if (preflight.gpu() == null) return preflight.exitCode();
      GpuInfo info = preflight.gpu();
      out.println(info.summary());
      r = StepBench.run(info, options, out);
      byReplica.put(StepBenchCalibration.Replica.ONE, r);
    }
    out.print(StepBenchTable.render(r));
    if (outFile != null) {
      ResultFile.write(outFile, StepBenchTable.json(r));
      out.println("wrote " + outFile);
    }
    if (calibrationOut != null) {
      // CPU agents share this host's cores; what the cluster's other threads take is measured by
      // coordinator calibrate-host.
      StepCalibration.HostSharing host = backend.equals("cpu")
          ? new StepCalibration.HostSharing(Runtime.getRuntime().availableProcessors(), 0, 0, 1, "") : null;
      ResultFile.write(calibrationOut, StepBenchCalibration.of(byReplica, backend, host, messageMicros,
          ResultFile.commandLine(spec).trim()).toJson());
      out.println("wrote " + calibrationOut);
    }
    return 0;
  }

  /**
   * The --prefill values: {tokens, prompts} per point, "T" one prompt and "TxK" K prompts sharing T
   * tokens; at least one single prompt (the calibration's one-prompt curve).
   */
  static int[][] prefillPoints(List<String> values) {
    int[] tokens = new int[values.size()];
    int[] prompts = new int[values.size()];
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i).trim();
      String[] parts = v.split("x", -1);
      try {
        if (parts.length > 2) throw new NumberFormatException();
        tokens[i] = Integer.parseInt(parts[0]);
        prompts[i] = parts.length == 2 ? Integer.parseInt(parts[1]) : 1;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--prefill: '" + v + "' is not T or TxK (K prompts sharing T tokens)");
      }
      if (tokens[i] < 1 || prompts[i] < 1 || prompts[i] > tokens[i]) {
        throw new IllegalArgumentException("--prefill: '" + v + "' needs T >= 1 and 1 <= K <= T");
      }
    }
    if (Arrays.stream(prompts).noneMatch(k -> k == 1)) {
      throw new IllegalArgumentException("--prefill needs at least one single prompt (a T without xK)");
    }
    return new int[][] {tokens, prompts};
  }
}
