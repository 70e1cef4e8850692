package io.decodefleet.agent.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code gpu-agent}: the per-node daemon of a DecodeFleet cluster, plus its device tools
 * ({@code selftest}, {@code bench}).
 */
@Command(name = "gpu-agent", mixinStandardHelpOptions = true, version = "DecodeFleet 0.1.0",
    description = "The DecodeFleet per-node daemon and its device tools.",
    subcommands = {})
public final class GpuAgentCli implements Callable<Integer> {

  @Override
  public Integer call() {
    System.err.println("gpu-agent: the daemon mode is not built yet; see --help for the device tools");
    return 2;
  }

  /** Parses and runs; returns the exit code. */
  public static int run(String... args) {
    CommandLine cmd = new CommandLine(new GpuAgentCli());
    cmd.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("gpu-agent: " + ex.getMessage() + " (see --help)");
      err.flush();
      return 2;
    });
    return cmd.execute(args);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }
}
