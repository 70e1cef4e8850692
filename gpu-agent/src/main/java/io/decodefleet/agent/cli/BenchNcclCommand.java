package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.tools.bench.ByteSize;
import io.decodefleet.agent.tools.bench.NcclBench;
import io.decodefleet.agent.tools.bench.NcclBenchPoint;
import io.decodefleet.agent.tools.bench.NcclBenchReport;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code gpu-agent bench nccl}: NCCL send/recv and all-reduce bandwidth between the local GPUs,
 * through our JNI binding. Exit 0 after a run, 1 when NCCL or a run fails, 2 on bad arguments,
 * 3 when there are not two GPUs to measure.
 */
@Command(name = "nccl", mixinStandardHelpOptions = true,
    description = {"Times NCCL send/recv (every GPU pair, first sends) and sum all-reduce (bf16 and"
        + " fp32, in place, all chosen GPUs) over message sizes, one thread per GPU in this"
        + " process; prints time, algorithm and bus bandwidth (busbw = algbw x 2(n-1)/n for"
        + " all-reduce, as nccl-tests) and optionally writes JSON.",
        "NCCL is libnccl.so.2 from the loader's path, or the file named by"
            + " -Ddecodefleet.nccl.library or DECODEFLEET_NCCL_LIBRARY."})
public final class BenchNcclCommand implements Callable<Integer> {

  @Option(names = "--out", paramLabel = "FILE.json",
      description = "Also write the results as JSON.")
  private Path outFile;

  @Option(names = "--sizes", split = ",", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "Message sizes: bytes, or binary multiples with K, M or G; each a multiple of"
          + " 4 (default: 4K, 8K, ... 1G, doubling).")
  private List<Long> sizes;

  @Option(names = "--gpus", split = ",", paramLabel = "INDEX",
      description = "GPUs to use, at least two, in rank order (default: all).")
  private List<Integer> gpus;

  @Option(names = "--warmup", defaultValue = "3",
      description = "Untimed repetitions per point (default: ${DEFAULT-VALUE}).")
  private int warmup;

  @Option(names = "--reps", defaultValue = "25",
      description = "Timed repetitions per point; the median is reported"
          + " (default: ${DEFAULT-VALUE}).")
  private int reps;

  @Option(names = "--max-iters", defaultValue = "20",
      description = "Most back-to-back operations per timed repetition; small messages get this many, so a"
          + " repetition keeps the GPU busy long enough for its clocks to rise (default: ${DEFAULT-VALUE}).")
  private int maxIters;

  @Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS",
      description = "Limit for communicator set-up and for each point; past it the run is aborted"
          + " (default: ${DEFAULT-VALUE}).")
  private int timeoutSeconds;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  /** Parses a {@code --sizes} element, reporting a bad one as picocli's one-line error. */
  static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return ByteSize.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Override
  public Integer call() {
    NcclBench.Settings settings;
    try {
      settings = new NcclBench.Settings(sizes != null ? sizes : NcclBench.DEFAULT_SIZES, warmup,
          reps, Duration.ofSeconds(timeoutSeconds), maxIters);
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench nccl: " + e.getMessage());
      return 2;
    }
    DevicePreflight.Multi preflight = DevicePreflight.multi("gpu-agent bench nccl", out,
        gpus != null ? List.copyOf(new LinkedHashSet<>(gpus)) : null, 0, false);
    if (preflight.gpus() == null) return preflight.exitCode();
    List<GpuInfo> chosen = preflight.gpus();
    try {
      String version = Nccl.versionText(Nccl.version());
      String mode = Nccl.blockingOps() ? "communicators formed non-blocking, operations on a blocking split"
          : Nccl.nonBlockingComms() ? "non-blocking communicators" : "blocking communicators";
      out.println("NCCL " + version + ", " + mode + ", " + chosen.size() + " ranks, one thread each");
      for (GpuInfo g : chosen) {
        out.println("  " + g.summary());
      }
      out.print(NcclBenchReport.header());
      List<NcclBenchPoint> points = NcclBench.run(chosen, settings, p -> {
        out.print(NcclBenchReport.row(p));
        out.flush();
      });
      out.println("values checked first: sum all-reduce (bf16, fp32) on every rank and send/recv"
          + " GPU " + chosen.get(0).index() + " -> GPU " + chosen.get(1).index() + ", exact");
      for (String line : NcclBenchReport.targetLines(points)) {
        out.println(line);
      }
      if (outFile != null) {
        ResultFile.write(outFile, NcclBenchReport.json(chosen, version, settings,
            NcclBenchReport.ncclEnvironment(System.getenv()), points));
        out.println("wrote " + outFile);
      }
      return 0;
    } catch (RuntimeException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      out.println("gpu-agent bench nccl: " + m.replaceAll("\\s*\\R\\s*", " "));
      return 1;
    }
  }
}
