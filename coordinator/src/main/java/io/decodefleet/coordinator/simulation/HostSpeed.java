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
 * prints the figure beside its table; the simulated-against-real tests divide it out.
 */
public record HostSpeed(String model, int batch, int context, double decodeNowUs, double decodeThenUs,
    int prefillTokens, double prefillNowUs, double prefillThenUs) {
  /** The decode batch timed, where the calibration has it. */
  public static final int DECODE_BATCH = 8;
  /** A slowdown this far from 1 (either way) is worth a warning: the targets are 10 %. */
  public static final double TOLERANCE = 0.10;
  static final int REPS = 30;

  /** Geometric mean of now over then at the two points; above 1: this host is slower now. */
  public double slowdown() {
    return Math.sqrt(decodeNowUs / decodeThenUs * (prefillNowUs / prefillThenUs));
  }

  /** Whether the host runs the calibration's points within {@link #TOLERANCE} of its times. */
  public boolean matches() {
    double s = slowdown();
    return s >= 1 - TOLERANCE && s <= 1 + TOLERANCE;
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

  /** One line for a report: both points now and then, and the slowdown. */
  public String describe(String calibrationName) {
    String line = String.format(Locale.ROOT, "This host ran %s's decode step (batch %d, context %d) in %.0f µs "
        + "against the calibration's %.0f, and its %d-token prefill in %.0f µs against %.0f: %.2fx the time of the "
        + "host and hour %s was measured on", model, batch, context, decodeNowUs, decodeThenUs, prefillTokens,
        prefillNowUs, prefillThenUs, slowdown(), calibrationName);
    return line + (matches() ? "." : "; the simulation has the calibration's speed, so this comparison is of two hosts "
        + "as much as of the model (calibrate on this host: docs/simulation.md, \"Making calibrations\").");
  }
}
