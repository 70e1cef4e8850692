package io.decodefleet.agent.cli;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.tools.bench.RooflineProjection;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpu-agent bench roofline}: projects a step-time calibration for a device that is not at hand
 * from its published HBM bandwidth and tensor-core rate ({@link RooflineProjection}); nothing runs on a
 * device. Exit 0, or 2 on bad arguments.
 */
@Command(name = "roofline", mixinStandardHelpOptions = true,
    description = "Projects a step-time calibration (labelled projection) for a device not at hand, from its "
        + "published HBM bandwidth and bf16 tensor-core rate and the model's bytes and FLOPs per step, for "
        + "`coordinator simulate --calibration`. Nothing runs on a device.")
public final class BenchRooflineCommand implements Callable<Integer> {

  @Option(names = "--device", required = true, description = "h200 or b200.")
  private String device;

  @Option(names = "--model", defaultValue = "llama3-8b", description = "Model preset (default: ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--memory-efficiency", defaultValue = "0.62", description = "Fraction of the peak HBM bandwidth a "
      + "step moves (default: ${DEFAULT-VALUE}, what this project's kernels reached on an H200).")
  private double memoryEfficiency;

  @Option(names = "--compute-efficiency", defaultValue = "0.57", description = "Fraction of the peak bf16 tensor "
      + "rate a prefill reaches (default: ${DEFAULT-VALUE}, as measured on an H200).")
  private double computeEfficiency;

  @Option(names = "--overhead-us", defaultValue = "100", description = "Host time per step, µs (default: "
      + "${DEFAULT-VALUE}, as measured on an H200).")
  private double overheadMicros;

  @Option(names = "--host-us-per-sequence", defaultValue = "13.7", description = "The engine's host time per "
      + "sequence in a step beyond bench step's, µs (default: ${DEFAULT-VALUE}, as measured on an H200).")
  private double hostMicrosPerSequence;

  @Option(names = "--calibration-out", paramLabel = "FILE.json", required = true,
      description = "Where the calibration goes.")
  private Path out;

  @Spec
  private CommandSpec spec;

  private final PrintStream stdout = System.out;

  @Override
  public Integer call() {
    RooflineProjection.Device d;
    ModelConfig config;
    try {
      d = RooflineProjection.device(device);
      config = ModelConfig.preset(model);
      if (!(memoryEfficiency > 0 && memoryEfficiency <= 1) || !(computeEfficiency > 0 && computeEfficiency <= 1)) {
        throw new IllegalArgumentException("--memory-efficiency and --compute-efficiency must be in (0, 1]");
      }
      if (!(overheadMicros >= 0) || Double.isInfinite(overheadMicros)) {
        throw new IllegalArgumentException("--overhead-us must be >= 0, got " + overheadMicros);
      }
      if (!(hostMicrosPerSequence >= 0) || Double.isInfinite(hostMicrosPerSequence)) {
        throw new IllegalArgumentException("--host-us-per-sequence must be >= 0, got " + hostMicrosPerSequence);
      }
    } catch (IllegalArgumentException e) {
      stdout.println("gpu-agent bench roofline: " + e.getMessage());
      return 2;
    }
    StepCalibration cal;
    try {
      cal = RooflineProjection.project(d, config, new RooflineProjection.Efficiency(memoryEfficiency,
          computeEfficiency, overheadMicros, hostMicrosPerSequence), ResultFile.commandLine(spec).trim());
    } catch (IllegalArgumentException e) {
      stdout.println("gpu-agent bench roofline: " + e.getMessage());
      return 2;
    }
    ResultFile.write(out, cal.toJson());
    StepCalibration.LayoutTable t = cal.layouts().get(0);
    stdout.printf(Locale.ROOT, "%s, %s: PROJECTION (not measured)%n", cal.device(), cal.model());
    for (StepCalibration.DecodePoint p : t.decode()) {
      if (p.context() == 1024 && (p.batch() == 1 || p.batch() == 64 || p.batch() == 256)) {
        stdout.printf(Locale.ROOT, "  decode b=%-3d ctx 1024  %9.1f us%n", p.batch(), p.stepMicros());
      }
    }
    for (StepCalibration.PrefillPoint p : t.prefill()) {
      if (p.tokens() == 128 || p.tokens() == 512 || p.tokens() == 2048) {
        stdout.printf(Locale.ROOT, "  prefill T=%-5d        %9.1f us%n", p.tokens(), p.stepMicros());
      }
    }
    stdout.printf(Locale.ROOT, "  KV pool %d blocks of %d tokens per GPU%n", cal.defaults().kvBlocks(), cal.blockSize());
    stdout.println("wrote " + out);
    return 0;
  }
}
