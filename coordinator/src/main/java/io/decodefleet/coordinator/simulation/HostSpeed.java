package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.tools.bench.CpuStepBench;
import io.decodefleet.agent.tools.bench.StepBench;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How fast this host runs the CPU engine now, against a CPU calibration's own figures: two of the
 * calibration's points timed again here by the step bench — a decode step ({@link #DECODE_BATCH}
 * sequences at the table's shortest context, or the nearest batch it has) and its shortest prompt's
 * prefill — each over the calibration's time for that point, and their geometric mean ({@link
 * #slowdown}; above 1: slower now). A CPU calibration holds for the host and the hour it was measured:
 * the same 2-core VM has run these points 2.7 times slower an hour apart, and a comparison of real
 * against simulated on such a day compares two hosts, not the model. {@code simulate --compare-real}
 * times them before and after its real run ({@link OverRun}) and prints both beside its table
 * ({@code --scale-to-host} scales the simulation by their mean); the simulated-against-real tests divide
 * the mean out.
 */
public record HostSpeed(String model, int batch, int context, double decodeNowUs, double decodeThenUs,
    int prefillTokens, double prefillNowUs, double prefillThenUs) {
  /** The decode batch timed, where the calibration has it. */
  public static final int DECODE_BATCH = 8;
  /** A slowdown or a drift this far from 1 (either way) is worth a warning: the targets are 10 %. */
  public static final double TOLERANCE = 0.10;
  static final int REPS = 30;

  /** Geometric mean of now over then at the two points; above 1: this host is slower now. */
  public double slowdown() {
    return Math.sqrt(decodeNowUs / decodeThenUs * (prefillNowUs / prefillThenUs));
  }

  /**
   * Times the two points of {@code calibration}'s single-device table on this host's CPU backend. Empty
   * for a calibration that is not the CPU backend's, or whose table lacks decode or prefill points.
   */
  public static Optional<HostSpeed> measure(StepCalibration calibration) {
    if (!"cpu".equals(calibration.backend())) return Optional.empty();
    Optional<StepCalibration.LayoutTable> table = calibration.table(1, null);
    if (table.isEmpty() || table.get().decode().isEmpty() || table.get().prefill().isEmpty()) return Optional.empty();
    int context = table.get().decode().stream().mapToInt(StepCalibration.DecodePoint::context).min().getAsInt();
    StepCalibration.DecodePoint decode = table.get().decode().stream().filter(p -> p.context() == context)
        .min(Comparator.comparingDouble(p -> Math.abs(Math.log((double) p.batch() / DECODE_BATCH)))).orElseThrow();
    StepCalibration.PrefillPoint prefill = table.get().prefill().stream().filter(p -> p.prompts() == 1)
        .min(Comparator.comparingInt(StepCalibration.PrefillPoint::tokens)).orElse(null);
    if (prefill == null) return Optional.empty();
    StepBench.Options options = new StepBench.Options(calibration.model(), new int[] {decode.batch()},
        new int[] {decode.context()}, new int[] {prefill.tokens()}, List.of(DecodePath.PERSISTENT_GRAPH), 10, REPS,
        1234L, GemmTuner.Policy.parse("auto"), 0);
    StepBench.Result now = CpuStepBench.run(options, new PrintStream(OutputStream.nullOutputStream()));
    return Optional.of(new HostSpeed(calibration.model(), decode.batch(), decode.context(), now.decode().get(0).wallUs(),
        decode.stepMicros(), prefill.tokens(), now.prefill().get(0).ttftUs(), prefill.stepMicros()));
  }

  /**
   * The host's speed over a real run, from a reading before it and one after: their geometric mean
   * ({@link #slowdown}), and how much the host changed between the two ({@link #drift}). A shared host
   * can change speed by tens of percent within a minute; a run whose host drifted past {@link
   * #TOLERANCE} cannot be compared with a simulation at one speed, whatever the model.
   */
  public record OverRun(HostSpeed before, HostSpeed after) {
    public double slowdown() {
      return Math.sqrt(before.slowdown() * after.slowdown());
    }

    /** After over before: above 1, the host slowed down during the run. */
    public double drift() {
      return after.slowdown() / before.slowdown();
    }

    public boolean steady() {
      return Math.abs(drift() - 1) <= TOLERANCE;
    }

    /**
     * Lines for a report: both points before the run, the slowdown before and after, and what it means
     * for the comparison ({@code scaled}: the simulation's steps were scaled by {@link #slowdown}).
     */
    public String describe(String calibrationName, boolean scaled) {
      String line = String.format(Locale.ROOT, "This host ran %s's decode step (batch %d, context %d) in %.0f µs "
          + "against the calibration's %.0f, and its %d-token prefill in %.0f µs against %.0f, before the real run: "
          + "%.2fx the time of the host and hour %s was measured on; %.2fx after it (%+.0f %% during the run)",
          before.model, before.batch, before.context, before.decodeNowUs, before.decodeThenUs, before.prefillTokens,
          before.prefillNowUs, before.prefillThenUs, before.slowdown(), calibrationName, after.slowdown(),
          100 * (drift() - 1));
      String scaling = scaled
          ? String.format(Locale.ROOT, "; the simulated steps were scaled by %.2f, the mean of the two", slowdown())
          : Math.abs(slowdown() - 1) <= TOLERANCE ? ""
          : "; the simulation has the calibration's speed, so this compares two hosts as much as the model "
              + "(--scale-to-host, or calibrate on this host: docs/simulation.md, \"Making calibrations\")";
      String drifting = steady() ? "." : "; the host's speed changed by more than the targets during the real run, "
          + "so no simulation at one speed can match it within them.";
      return line + scaling + drifting;
    }
  }
}
