package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.tools.bench.BenchResult;
import io.decodefleet.agent.tools.bench.KernelBench;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpu-agent bench ...}: device benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Device benchmarks.", subcommands = {BenchCommand.Kernels.class, BenchNcclCommand.class,
        BenchStepCommand.class, BenchKvTransferCommand.class, BenchTpCommand.class, BenchHostCopyCommand.class,
        BenchHostStepCommand.class, BenchRooflineCommand.class})
public final class BenchCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.err.println("gpu-agent bench: name a benchmark (kernels, step, nccl, tp, kv-transfer, host-copy, host-step, roofline); see --help");
    return 2;
  }

  /**
   * {@code gpu-agent bench kernels}: the decode-attention and skinny-GEMM grids and the copy
   * ceiling on one GPU; prints a table and optionally writes JSON. Exit 3 without a GPU.
   */
  @Command(name = "kernels", mixinStandardHelpOptions = true,
      description = "Times the kernels over the issue's shape grids (CUDA graphs, CUDA events, "
          + "median, inputs rotated past L2) and prints time, TB/s and the copy-bandwidth floor.")
  public static final class Kernels implements Callable<Integer> {

    @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
    private Path outFile;

    @Option(names = "--gpu", paramLabel = "INDEX", defaultValue = "0",
        description = "GPU to benchmark (default: ${DEFAULT-VALUE}).")
    private int gpu;

    @Option(names = "--only", split = ",", paramLabel = "SECTION",
        description = "Grids to run (default: all): attention, gemm (decode batches), prefill-gemm "
            + "(512..8192 rows, TFLOP/s), prefill-attention-paged (a prompt chunk over its cached prefix, against "
            + "decode rows), moe (router, permutation, grouped expert GEMMs). The copy row always runs.")
    private List<String> only;

    /** Where the command prints: {@code System.out} as it was when picocli made the command. */
    private final PrintStream out = System.out;

    @Override
    public Integer call() {
      Set<KernelBench.Section> sections = EnumSet.allOf(KernelBench.Section.class);
      if (only != null) {
        sections.clear();
        try {
          for (String s : only) sections.add(KernelBench.Section.parse(s));
        } catch (IllegalArgumentException e) {
          System.err.println("gpu-agent bench kernels: " + e.getMessage());
          return 2;
        }
      }
      DevicePreflight preflight = DevicePreflight.check("gpu-agent bench kernels", out, gpu);
      if (preflight.gpu() == null) return preflight.exitCode();
      GpuInfo info = preflight.gpu();
      out.println(info.summary());
      try (DeviceHarness h = DeviceHarness.open(info, 1234L)) {
        List<BenchResult> results = KernelBench.run(h, out, sections);
        if (outFile != null) {
          ResultFile.write(outFile, json(info, h.copyBytesPerUs() / 1e6, results));
          out.println("wrote " + outFile);
        }
      }
      return 0;
    }

    static String json(GpuInfo gpu, double copyTbps, List<BenchResult> results) {
      StringBuilder sb = new StringBuilder("{\n");
      sb.append("  \"date\": \"").append(Instant.now()).append("\",\n");
      sb.append(String.format(Locale.ROOT,
          "  \"device\": {\"index\": %d, \"name\": \"%s\", \"arch\": \"%s\", \"sm_count\": %d,"
              + " \"memory_bytes\": %d, \"l2_bytes\": %d},%n",
          gpu.index(), gpu.name().replace("\"", "'"), gpu.arch(), gpu.smCount(),
          gpu.totalBytes(), gpu.l2Bytes()));
      sb.append(String.format(Locale.ROOT, "  \"copy_tb_per_s\": %.4f,%n", copyTbps));
      sb.append("  \"results\": [\n");
      for (int i = 0; i < results.size(); i++) {
        sb.append("    ").append(results.get(i).toJson()).append(i + 1 < results.size() ? ",\n" : "\n");
      }
      sb.append("  ]\n}\n");
      return sb.toString();
    }
  }
}
