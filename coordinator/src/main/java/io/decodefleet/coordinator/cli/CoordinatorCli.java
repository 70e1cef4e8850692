package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.workload.LengthRange;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code coordinator}: runs a decode benchmark on a DecodeFleet cluster and reports TTFT, TPOT, ITL,
 * E2E and throughput. With no seed nodes it starts the embedded default (agents on this machine).
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true, version = "DecodeFleet 0.1.0",
    sortOptions = false,
    description = "Runs an LLM decode benchmark across a fleet of agents and reports TTFT, TPOT, ITL, "
        + "E2E latency and throughput.")
public final class CoordinatorCli implements Callable<Integer> {

  @Option(names = "--world-size", description = "Agents that serve the run (default: ${DEFAULT-VALUE}).")
  int worldSize = 8;

  @Option(names = "--model", description = "Model preset: tiny, llama3-1b, llama3-8b, llama3-70b, qwen2.5-7b "
      + "(default: ${DEFAULT-VALUE}; the CPU backend runs tiny).")
  String model = "tiny";

  @Option(names = "--num-requests", description = "Requests in the workload (default: ${DEFAULT-VALUE}).")
  int numRequests = 64;

  @Option(names = "--prompt-len", description = "Prompt tokens: N or MIN:MAX, uniform (default: ${DEFAULT-VALUE}).")
  String promptLen = "32:256";

  @Option(names = "--output-len", description = "Output tokens: N or MIN:MAX, uniform (default: ${DEFAULT-VALUE}).")
  String outputLen = "16:128";

  @Option(names = "--placement", description = "least-loaded (free KV blocks) or round-robin (default: ${DEFAULT-VALUE}).")
  String placement = "least-loaded";

  @Option(names = "--seed", description = "Seed of the workload and the dummy weights (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--report-dir", description = "Where report.json goes (default: runs/<timestamp>).")
  Path reportDir;

  @Option(names = "--verify", description = "Check the KV-cached decode against a full recompute for a sample of "
      + "sequences; the run fails if any differs.")
  boolean verify;

  @Option(names = "--verify-fraction", description = "Fraction of sequences --verify checks (default: ${DEFAULT-VALUE}).")
  double verifyFraction = 0.25;

  @Option(names = "--block-size", description = "KV block size in tokens (default: ${DEFAULT-VALUE}).")
  int blockSize = 16;

  @Option(names = "--kv-blocks", description = "KV blocks per agent; 0 sizes the pool from memory (default: ${DEFAULT-VALUE}).")
  int kvBlocks = 0;

  @Option(names = "--max-num-seqs", description = "Most sequences an agent runs at once (default: ${DEFAULT-VALUE}).")
  int maxNumSeqs = 64;

  @Option(names = "--max-batched-tokens", description = "Token budget of one engine step (default: ${DEFAULT-VALUE}).")
  int maxBatchedTokens = 512;

  @Option(names = "--agent-timeout", description = "Seconds to wait for agents to join and load (default: ${DEFAULT-VALUE}).")
  int agentTimeoutSeconds = 60;

  @Option(names = "--quiet", description = "Print only the path of the report.")
  boolean quiet;

  /** Validated settings, or a usage error whose message is the one line the user sees. */
  RunSettings settings() {
    if (worldSize < 1) throw usage("--world-size must be >= 1, got " + worldSize);
    if (numRequests < 1) throw usage("--num-requests must be >= 1, got " + numRequests);
    ModelConfig config;
    try {
      config = ModelConfig.preset(model);
    } catch (IllegalArgumentException e) {
      throw usage("--model: " + e.getMessage());
    }
    LengthRange prompt = range("--prompt-len", promptLen);
    LengthRange output = range("--output-len", outputLen);
    try {
      PlacementPolicy.named(placement);
    } catch (IllegalArgumentException e) {
      throw usage("--placement: " + e.getMessage());
    }
    if (blockSize < 1 || blockSize > 1024) throw usage("--block-size must be in 1..1024, got " + blockSize);
    if (kvBlocks < 0) throw usage("--kv-blocks must be >= 0, got " + kvBlocks);
    if (maxNumSeqs < 1) throw usage("--max-num-seqs must be >= 1, got " + maxNumSeqs);
    if (maxBatchedTokens < 1) throw usage("--max-batched-tokens must be >= 1, got " + maxBatchedTokens);
    if (!(verifyFraction > 0 && verifyFraction <= 1)) throw usage("--verify-fraction must be in (0, 1], got " + verifyFraction);
    if (agentTimeoutSeconds < 1) throw usage("--agent-timeout must be >= 1 s, got " + agentTimeoutSeconds);
    if (prompt.max() + output.max() > config.maxPositionEmbeddings()) {
      throw usage("--prompt-len + --output-len can reach " + (prompt.max() + output.max())
          + " tokens, more than model " + config.name() + "'s " + config.maxPositionEmbeddings());
    }
    return new RunSettings(worldSize, config, numRequests, prompt, output, placement, seed, reportDir,
        verify ? verifyFraction : 0.0, blockSize, kvBlocks, maxNumSeqs, maxBatchedTokens, agentTimeoutSeconds, quiet);
  }

  private static LengthRange range(String option, String text) {
    try {
      return LengthRange.parse(text);
    } catch (IllegalArgumentException e) {
      throw usage(option + ": " + e.getMessage());
    }
  }

  private static UsageError usage(String message) {
    return new UsageError(message);
  }

  /** A bad value on the command line: one line on stderr, exit code 2. */
  static final class UsageError extends RuntimeException {
    UsageError(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public Integer call() {
    RunSettings settings;
    try {
      settings = settings();
    } catch (UsageError e) {
      System.err.println("coordinator: " + e.getMessage());
      return 2;
    }
    return new EmbeddedRun(settings, String.join(" ", originalArgs)).run();
  }

  private String[] originalArgs = new String[0];

  /** Parses and runs; returns the exit code (0 ok, 1 run failed, 2 bad arguments). */
  public static int run(String... args) {
    CoordinatorCli cli = new CoordinatorCli();
    cli.originalArgs = args;
    CommandLine cmd = new CommandLine(cli);
    cmd.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("coordinator: " + ex.getMessage() + " (see --help)");
      err.flush();
      return 2;
    });
    return cmd.execute(args);
  }

  public static void main(String[] args) {
    int code = run(args);
    System.exit(code);
  }
}
