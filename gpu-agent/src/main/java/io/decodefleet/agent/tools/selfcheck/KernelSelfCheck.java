package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Every kernel on one GPU against its CPU reference, on fresh random inputs, outputs poisoned with
 * NaN first, each timed with CUDA events after a warm-up; prints the table as it goes.
 */
public final class KernelSelfCheck {

  /** The outcome on one GPU. */
  public record GpuReport(GpuInfo gpu, double copyTerabytesPerSecond, List<CheckResult> results) {

    public GpuReport {
      results = List.copyOf(results);
    }

    public boolean passed() {
      return !results.isEmpty() && results.stream().allMatch(CheckResult::passed);
    }
  }

  private KernelSelfCheck() {}

  /** Runs {@code families} on {@code gpu}, printing a header line and one row per check. */
  public static GpuReport run(GpuInfo gpu, List<KernelFamily> families, long seed, PrintStream out) {
    List<CheckResult> results = new ArrayList<>();
    out.println(gpu.summary());
    try (DeviceHarness h = DeviceHarness.open(gpu, seed)) {
      double copy = h.copyBytesPerUs() / 1e6;
      out.printf(Locale.ROOT, "device-to-device copy: %.2f TB/s (read + write); floors below are"
          + " bytes / this%n", copy);
      out.print(ResultTable.header());
      for (KernelFamily f : families) {
        for (CheckResult r : f.run(h)) {
          results.add(r);
          out.print(ResultTable.row(r));
          out.flush();
        }
      }
      return new GpuReport(gpu, copy, results);
    } catch (RuntimeException e) {
      CheckResult r = CheckResult.crashed("(setup)", gpu.label(), e);
      results.add(r);
      out.print(ResultTable.row(r));
      return new GpuReport(gpu, Double.NaN, results);
    }
  }
}
