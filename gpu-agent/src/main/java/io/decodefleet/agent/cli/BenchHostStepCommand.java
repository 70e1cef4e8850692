package io.decodefleet.agent.cli;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.tools.bench.HostStepBench;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent bench host-step}: the engine thread's host part of a graph decode step ({@link
 * HostStepBench}: scheduling, laying the step out, its plan and inputs, taking its tokens back), on the CPU
 * alone. Exit 0, or 2 on bad arguments.
 */
@Command(name = "host-step", mixinStandardHelpOptions = true,
    description = "Times the host's part of a CUDA agent's graph decode step on its engine thread (the scheduler's "
        + "step, the runner's layout, the step plan, the decode-attention work list, packing the step's inputs, taking "
        + "the sampled tokens back) on the CPU alone, the real scheduler serving a stream of sequences; no device is "
        + "needed.")
public final class BenchHostStepCommand implements Callable<Integer> {

  @Option(names = "--model", defaultValue = "llama3-8b", description = "Model preset: its kv heads and context "
      + "(default: ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--batches", split = ",", defaultValue = "1,64,256",
      description = "Decode batch sizes (default: ${DEFAULT-VALUE}).")
  private List<Integer> batches;

  @Option(names = "--context", defaultValue = "1024", description = "Prompt tokens of each sequence, ±5 %% "
      + "(default: ${DEFAULT-VALUE}).")
  private int context;

  @Option(names = "--output-len", defaultValue = "256", description = "Tokens each sequence decodes before it "
      + "finishes and a queued one takes its place (default: ${DEFAULT-VALUE}).")
  private int outputLen;

  @Option(names = "--block-size", defaultValue = "16", description = "KV block size (default: ${DEFAULT-VALUE}).")
  private int blockSize;

  @Option(names = "--attention-slots", defaultValue = "264", description = "The decode-attention kernel's CTA "
      + "slots, SMs x resident CTAs (default: ${DEFAULT-VALUE}, an H200's 132 SMs x 2).")
  private int slots;

  @Option(names = "--reps", defaultValue = "2000", description = "Timed reps per batch (default: ${DEFAULT-VALUE}).")
  private int reps;

  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    ModelConfig config;
    int[] sizes;
    try {
      config = ModelConfig.preset(model);
      sizes = batches.stream().mapToInt(Integer::intValue).toArray();
      for (int b : sizes) {
        if (b < 1 || b > 4096) throw new IllegalArgumentException("--batches must be in 1..4096, got " + b);
      }
      if (context < 1 || context > config.maxPositionEmbeddings()) {
        throw new IllegalArgumentException("--context must be in 1.." + config.maxPositionEmbeddings() + " for "
            + model + ", got " + context);
      }
      if (outputLen < 1) throw new IllegalArgumentException("--output-len must be >= 1, got " + outputLen);
      long longest = (long) Math.ceil(context * 1.05) + outputLen;
      if (longest > config.maxPositionEmbeddings()) {
        throw new IllegalArgumentException("--context " + context + " (+5 %) and --output-len " + outputLen
            + " exceed " + model + "'s " + config.maxPositionEmbeddings() + " positions");
      }
      if (blockSize < 1 || Integer.bitCount(blockSize) != 1) {
        throw new IllegalArgumentException("--block-size must be a power of two, got " + blockSize);
      }
      if (slots < 1) throw new IllegalArgumentException("--attention-slots must be >= 1, got " + slots);
      if (reps < 10) throw new IllegalArgumentException("--reps must be >= 10, got " + reps);
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench host-step: " + e.getMessage());
      return 2;
    }
    HostStepBench.run(sizes, context, outputLen, blockSize, config.numKeyValueHeads(), slots,
        config.maxPositionEmbeddings(), config.vocabSize(), reps, out);
    return 0;
  }
}
