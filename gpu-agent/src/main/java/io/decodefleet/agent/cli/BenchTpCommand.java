package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.calibration.CalibrationTerms;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.agent.tools.bench.TensorParallelBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent bench tp}: greedy parity and the decode step of a tensor-parallel group of the
 * first K GPUs against GPU 0 alone. Exit 0 when parity passes (every differing token a near tie in
 * lockstep; the table also says whether free-running tokens were identical), 1 when it fails or the run fails,
 * 2 on bad arguments, 3 without enough GPUs. With {@code --expert-parallel K} the group splits a
 * mixture's experts instead (defaults: tiny-moe parity, mixtral-8x7b-4l steps), and the table
 * sets EP=K beside one GPU and K GPUs of data parallelism.
 */
@Command(name = "tp", mixinStandardHelpOptions = true,
    description = "Tensor parallelism over the first K GPUs against one GPU: greedy tokens of a prompt/decode"
        + " schedule on every decode path (must be equal), then the decode step per batch (wall and device time"
        + " beside the per-device floor) and the TP=K / TP=1 ratio; --expert-parallel: EP=K instead, beside"
        + " one GPU and DP=K.")
public final class BenchTpCommand implements Callable<Integer> {

  @Option(names = "--tensor-parallel", description = "Group size K (default: 2).")
  private Integer tensorParallel;

  @Option(names = "--expert-parallel", paramLabel = "K", description = "Split a mixture's experts over K GPUs"
      + " instead of the heads and columns (EP=K); not with --tensor-parallel.")
  private Integer expertParallel;

  private int size;
  private boolean expert;

  @Option(names = "--model", description = "Model of the step timing (default: llama3-8b; mixtral-8x7b-4l with"
      + " --expert-parallel).")
  private String model;

  @Option(names = "--parity-models", split = ",",
      description = "Models of the parity check (default: tiny,llama3-8b-2l; tiny-moe with --expert-parallel).")
  private List<String> parityModels;

  @Option(names = "--parity-steps", defaultValue = "32", description = "Decode steps compared (default: "
      + "${DEFAULT-VALUE}).")
  private int paritySteps;

  @Option(names = "--batches", split = ",", description = "Decode batch sizes (default: 1,8,32; 1,2,4,8,16,32,64"
      + " with --expert-parallel, so that DP=K's batch / K was timed too).")
  private List<Integer> batches;

  @Option(names = "--context", defaultValue = "1024", description = "Context of every sequence (default: "
      + "${DEFAULT-VALUE}).")
  private int context;

  @Option(names = "--decode-paths", split = ",", defaultValue = "eager,persistent+graph",
      description = "Decode paths (default: ${DEFAULT-VALUE}).")
  private List<String> paths;

  @Option(names = "--reps", defaultValue = "50", description = "Timed steps per point (default: ${DEFAULT-VALUE}).")
  private int reps;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
  private Path outFile;

  @Option(names = "--calibration", paramLabel = "FILE.json", description = "A tensor-parallel group: write the "
      + "tensor_parallel term fitted to its steps against one GPU's into this calibration (from bench step "
      + "--calibration-out), for coordinator simulate --layout tp=K.")
  private Path calibration;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    List<DecodePath> chosen = new ArrayList<>();
    try {
      if (tensorParallel != null && expertParallel != null) {
        throw new IllegalArgumentException("--tensor-parallel and --expert-parallel together: choose one");
      }
      expert = expertParallel != null;
      size = expert ? expertParallel : tensorParallel != null ? tensorParallel : 2;
      if (size < 2) {
        throw new IllegalArgumentException((expert ? "--expert-parallel" : "--tensor-parallel") + " must be >= 2, got "
            + size);
      }
      if (model == null) model = expert ? "mixtral-8x7b-4l" : "llama3-8b";
      if (batches == null) batches = expert ? List.of(1, 2, 4, 8, 16, 32, 64) : List.of(1, 8, 32);
      if (parityModels == null) parityModels = expert ? List.of("tiny-moe") : List.of("tiny", "llama3-8b-2l");
      for (String p : paths) chosen.add(DecodePath.parse(p));
      for (String m : parityModels) check(ModelConfig.preset(m));
      check(ModelConfig.preset(model));
      if (context < 1 || reps < 1 || paritySteps < 1 || batches.stream().anyMatch(b -> b < 1)) {
        throw new IllegalArgumentException("--context, --reps, --parity-steps and --batches must be >= 1");
      }
      if (calibration != null && expert) {
        throw new IllegalArgumentException("--calibration takes a tensor-parallel group's scaling; an ep=K step "
            + "depends on its routing and is measured as its own table (bench step --expert-parallel)");
      }
      if (calibration != null && CalibrationTerms.unwritable(calibration) != null) {
        throw new IllegalArgumentException("--calibration " + CalibrationTerms.unwritable(calibration));
      }
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench tp: " + e.getMessage());
      return 2;
    }
    DevicePreflight.Multi preflight = DevicePreflight.multi("gpu-agent bench tp", out, null, size, true);
    if (preflight.gpus() == null) return preflight.exitCode();
    List<GpuInfo> gpus = preflight.gpus();
    TensorParallelBench.Result r = TensorParallelBench.run(gpus, new TensorParallelBench.Options(size, parityModels,
        paritySteps, model, batches.stream().mapToInt(Integer::intValue).toArray(), context, chosen, 10, reps, 1234L,
        expert ? Parallelism.EXPERT : Parallelism.TENSOR), out);
    out.print(TensorParallelBench.render(r));
    if (outFile != null) {
      ResultFile.write(outFile, TensorParallelBench.json(r));
      out.println("wrote " + outFile);
    }
    if (calibration != null) {
      StepCalibration.TensorParallelScaling tp = CalibrationTerms.tensorParallel(TensorParallelBench.pairs(r), size,
          ModelConfig.preset(model).numHiddenLayers());
      CalibrationTerms.write(calibration, tp);
      out.printf(java.util.Locale.ROOT, "wrote tensor_parallel (efficiency %.3f, all_reduce_us %.1f, layers %d) into "
          + "%s%n", tp.efficiency(), tp.allReduceMicros(), tp.layers(), calibration);
    }
    return r.parityPassedUpToTies() ? 0 : 1;
  }

  private void check(ModelConfig config) {
    (expert ? ExpertShard.unsplittable(config, size) : TensorShard.unsplittable(config, size)).ifPresent(why -> {
      throw new IllegalArgumentException(why);
    });
  }
}
