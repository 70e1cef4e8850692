package io.decodefleet.coordinator.metrics;

import java.util.Locale;

/**
 * The console table of a run's profiled decode steps ({@code --profile-steps}): per kernel family its
 * time per step, its share of the step and its floor, then the families' sum, the step's time
 * outside them and the step as measured around it.
 */
public final class ProfileTable {

  private static final int WIDTH = 58;
  private static final String ROW = "%-22s%10s%9s%10s%7s%n";

  private ProfileTable() {}

  public static String render(StepProfileSummary p) {
    StringBuilder out = new StringBuilder();
    out.append(ConsoleTable.centered(" Decode step by kernel family ", '-', WIDTH)).append('\n');
    out.append(String.format(Locale.ROOT, "%d profiled steps on %s, mean batch %.1f; %s%n", p.steps(), p.backend(),
        p.meanBatch(), "cuda".equals(p.backend()) ? "device time between CUDA events, eager launches"
            : "host time around each op"));
    out.append(String.format(Locale.ROOT, ROW, "Family", "ms/step", "share", "floor ms", "x"));
    for (StepProfileSummary.FamilyTime f : p.families()) {
      if (f.msPerStep() == 0 && !Double.isFinite(f.floorMs())) continue; // a family the step did not run
      out.append(String.format(Locale.ROOT, ROW, f.family(), ms(f.msPerStep()), percent(f.share()), ms(f.floorMs()),
          f.floorMs() > 0 ? String.format(Locale.ROOT, "%.1f", f.msPerStep() / f.floorMs()) : ""));
    }
    out.append(String.format(Locale.ROOT, ROW, "families", ms(p.familiesMs()), percent(p.familiesMs() / p.stepMs()),
        ms(p.floorMs()), ""));
    out.append(String.format(Locale.ROOT, ROW, "outside families", ms(p.untimedMs()),
        percent(p.untimedMs() / p.stepMs()), "", ""));
    out.append(String.format(Locale.ROOT, ROW, "step", ms(p.stepMs()), "100.0%", "", ""));
    out.append("-".repeat(WIDTH)).append('\n');
    return out.toString();
  }

  private static String ms(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "";
  }

  private static String percent(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : "";
  }
}
