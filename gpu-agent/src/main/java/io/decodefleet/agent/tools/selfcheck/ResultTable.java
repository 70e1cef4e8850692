package io.decodefleet.agent.tools.selfcheck;

import java.util.List;
import java.util.Locale;

/** The fixed-width table both {@code selftest} and the gpu-tagged tests print. */
public final class ResultTable {

  private static final String FORMAT = "%-26s %-58s %10s %-5s %10s %14s %10s%n";

  private ResultTable() {}

  public static String header() {
    return String.format(Locale.ROOT, FORMAT, "kernel", "shape", "rel err", "ok", "time us",
        "achieved", "floor us");
  }

  public static String row(CheckResult r) {
    String err = Double.isNaN(r.relError()) ? "NaN" : String.format(Locale.ROOT, "%.2e", r.relError());
    String time = Double.isNaN(r.medianUs()) ? "-" : String.format(Locale.ROOT, "%.1f", r.medianUs());
    String achieved;
    if (Double.isNaN(r.medianUs())) {
      achieved = "-";
    } else if (computeBound(r)) {
      achieved = String.format(Locale.ROOT, "%.1f TFLOP/s", r.teraflops());
    } else {
      achieved = String.format(Locale.ROOT, "%.2f TB/s", r.terabytesPerSecond());
    }
    String floor = Double.isNaN(r.floorUs()) ? "-" : String.format(Locale.ROOT, "%.1f", r.floorUs());
    String line = String.format(Locale.ROOT, FORMAT, r.kernel(), r.shape(), err,
        r.passed() ? "pass" : "FAIL", time, achieved, floor);
    return r.passed() ? line : line + "    -> " + r.failure() + System.lineSeparator();
  }

  public static String render(List<CheckResult> results) {
    StringBuilder sb = new StringBuilder(header());
    for (CheckResult r : results) {
      sb.append(row(r));
    }
    return sb.toString();
  }

  /** GEMMs and prefill attention are reported in FLOP/s: arithmetic bounds them, not bytes. */
  private static boolean computeBound(CheckResult r) {
    return r.flops() / Math.max(1.0, r.bytes()) > 100.0;
  }
}
