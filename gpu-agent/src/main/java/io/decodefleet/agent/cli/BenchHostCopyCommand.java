package io.decodefleet.agent.cli;

import io.decodefleet.agent.tools.bench.ByteSize;
import io.decodefleet.agent.tools.bench.HostCopyBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpu-agent bench host-copy}: pageable vs pinned host↔device copies, 4 KiB to 1 GiB. Exit 3 without a GPU. */
@Command(name = "host-copy", mixinStandardHelpOptions = true,
    description = "Times host-to-device and device-to-host copies from pageable and from pinned memory at each size"
        + " (median host wall time per copy) against the copy engine's measured ceiling.")
public final class BenchHostCopyCommand implements Callable<Integer> {

  @Option(names = "--sizes", split = ",", paramLabel = "SIZE",
      description = "Copy sizes, e.g. 4K,1M,1G (default: 4K to 1G, x4).")
  private List<String> sizes;

  @Option(names = "--reps", defaultValue = "20", description = "Timed copies per point (default: ${DEFAULT-VALUE}).")
  private int reps;

  @Option(names = "--gpu", paramLabel = "INDEX", defaultValue = "0", description = "GPU (default: ${DEFAULT-VALUE}).")
  private int gpu;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
  private Path outFile;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    List<Long> chosen = new ArrayList<>();
    try {
      if (sizes == null) {
        chosen.addAll(HostCopyBench.DEFAULT_SIZES);
      } else {
        for (String s : sizes) {
          long n = ByteSize.parse(s);
          if (n > (1L << 30)) throw new IllegalArgumentException("--sizes: " + s + " is above the 1G limit");
          chosen.add(n);
        }
      }
      if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench host-copy: " + e.getMessage());
      return 2;
    }
    DevicePreflight preflight = DevicePreflight.check("gpu-agent bench host-copy", out, gpu);
    if (preflight.gpu() == null) return preflight.exitCode();
    out.println(preflight.gpu().summary());
    HostCopyBench.Result r = HostCopyBench.run(preflight.gpu(), chosen, reps, out);
    if (outFile != null) {
      ResultFile.write(outFile, HostCopyBench.json(r));
      out.println("wrote " + outFile);
    }
    return 0;
  }
}
