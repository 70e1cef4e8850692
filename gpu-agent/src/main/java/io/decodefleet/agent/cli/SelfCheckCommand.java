package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.tools.selfcheck.CheckResult;
import io.decodefleet.agent.tools.selfcheck.KernelFamily;
import io.decodefleet.agent.tools.selfcheck.KernelSelfCheck;
import io.decodefleet.kernels.cuda.Fatbin;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent selftest}: every kernel on every local GPU against its CPU reference. Exit 0
 * when every check passes, 1 when one fails, 3 when there is no GPU to test.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
    description = "Checks every CUDA kernel against its CPU reference on every local GPU "
        + "(fresh random inputs, NaN-poisoned outputs) and prints error, time, bandwidth and floor.")
public final class SelfCheckCommand implements Callable<Integer> {

  static final int NO_GPU = 3;

  @Option(names = "--seed", description = "Seed of the random inputs (default: a fresh one, printed).")
  private Long seed;

  @Option(names = "--gpu", split = ",", paramLabel = "INDEX",
      description = "GPUs to test (default: all).")
  private List<Integer> gpus;

  @Option(names = "--only", split = ",", paramLabel = "FAMILY",
      description = "Kernel families to check (default: all): ${COMPLETION-CANDIDATES}.")
  private List<KernelFamily> families;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    CudaDevices.Discovery discovery = CudaDevices.discover();
    if (!discovery.hasDevices()) {
      out.println("gpu-agent selftest: " + discovery.noDeviceLine());
      return NO_GPU;
    }
    if (!Fatbin.isPresent()) {
      out.println("gpu-agent selftest: " + Fatbin.absenceReason());
      return 1;
    }
    long s = seed != null ? seed : System.nanoTime();
    List<KernelFamily> chosen = families != null ? families : new ArrayList<>(Arrays.asList(KernelFamily.values()));
    out.println("selftest seed " + s);
    if (families == null) {
      // By default a family that cannot run on this host (cuBLASLt absent) is skipped with its reason;
      // named explicitly, it runs and fails with that reason.
      for (KernelFamily f : KernelFamily.values()) {
        if (!f.unavailabilityCause().isEmpty()) {
          out.println("selftest: " + f.name().toLowerCase(java.util.Locale.ROOT) + " skipped: " + f.unavailabilityCause());
          chosen.remove(f);
        }
      }
    }
    int passed = 0;
    int failed = 0;
    for (GpuInfo gpu : select(discovery.gpus())) {
      List<KernelFamily> here = new ArrayList<>(chosen);
      if (families == null) {
        // Likewise a family this device cannot run (the wgmma GEMM off sm_90), per GPU.
        for (KernelFamily f : chosen) {
          String cause = f.unavailabilityCause(gpu);
          if (!cause.isEmpty()) {
            out.println("selftest: " + f.name().toLowerCase(java.util.Locale.ROOT) + " skipped on " + gpu.label()
                + ": " + cause);
            here.remove(f);
          }
        }
      }
      KernelSelfCheck.GpuReport report = KernelSelfCheck.run(gpu, here, s, out);
      for (CheckResult r : report.results()) {
        if (r.passed()) {
          passed++;
        } else {
          failed++;
        }
      }
      out.println();
    }
    out.println("selftest: " + passed + " passed, " + failed + " failed");
    return failed == 0 && passed > 0 ? 0 : 1;
  }

  private List<GpuInfo> select(List<GpuInfo> all) {
    if (gpus == null) {
      return all;
    }
    List<GpuInfo> out = new ArrayList<>();
    for (int index : gpus) {
      if (index < 0 || index >= all.size()) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this), "--gpu " + index + " is not a GPU here (0.."
                + (all.size() - 1) + ")");
      }
      out.add(all.get(index));
    }
    return out;
  }
}
