package io.decodefleet.agent.cli;

import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent export-checkpoint}: a model's dummy weights as a Hugging Face model directory
 * (config.json and safetensors) that {@code --model DIR} loads back, checked by reading it back
 * before the command ends. Exit 0 when written, 1 when writing fails, 2 on bad arguments.
 */
@Command(name = "export-checkpoint", mixinStandardHelpOptions = true,
    description = {"Writes a model's dummy weights (--model, --seed) as config.json and model.safetensors (or"
        + " --shards files with model.safetensors.index.json) into --out, then reads the checkpoint back and checks"
        + " every tensor against the config.",
        "float32 holds the CPU backend's weights exactly; bfloat16 the CUDA backend's; fp8 stores the projections in"
        + " e4m3 with a float32 scale per output channel."})
public final class ExportCheckpointCommand implements Callable<Integer> {

  @Option(names = "--model", defaultValue = "tiny",
      description = "Model preset, or a model directory whose config.json shapes the dummy weights (default:"
          + " ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--seed", defaultValue = "0", description = "Dummy-weight seed (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(names = "--dtype", defaultValue = "bfloat16",
      description = "float32, bfloat16 or fp8 (default: ${DEFAULT-VALUE}).")
  private String dtype;

  @Option(names = "--shards", defaultValue = "1", description = "Safetensors files (default: ${DEFAULT-VALUE}).")
  private int shards;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write (created).")
  private Path out;

  private final PrintStream stdout = System.out;

  @Override
  public Integer call() {
    ModelConfig config;
    CheckpointExport.Dtype stored;
    try {
      config = ModelConfig.resolve(model);
      stored = CheckpointExport.Dtype.parse(dtype);
      if (shards < 1) throw new IllegalArgumentException("--shards must be >= 1, got " + shards);
    } catch (IllegalArgumentException e) {
      System.err.println("gpu-agent export-checkpoint: " + e.getMessage());
      return 2;
    }
    try {
      CheckpointExport.write(new HostWeights(ModelLoad.dummy(config, seed)), stored, shards, out);
      CheckedCheckpoint back = CheckedCheckpoint.open(out);
      stdout.println("wrote " + out + ": " + config.name() + " (seed " + seed + ") as " + dtype + ", "
          + back.describe());
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("gpu-agent export-checkpoint: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      System.err.println("gpu-agent export-checkpoint: writing " + out + ": " + e.getMessage());
      return 1;
    }
  }
}
