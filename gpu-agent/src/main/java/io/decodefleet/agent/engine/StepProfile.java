package io.decodefleet.agent.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One decode step run with each {@link KernelFamily} timed ({@code --profile-steps}): the step's
 * own time and each family's, with each family's floor — the bytes it must read ({@link
 * StepBytes}) at the backend's measured copy bandwidth. On a GPU the times are device time between
 * CUDA events of an eager run of the step's launches; on the CPU backend host time. The families
 * need not add up to the step: what runs outside every family (input and output copies, host work
 * between launches) is the step's own.
 *
 * @param batch sequences in the step (its sample rows)
 * @param stepMicros the whole step, measured around it: device time from the input copy to the
 *     output copy (GPU), or the call's wall time (CPU)
 * @param familyMicros per family, indexed by {@link KernelFamily#ordinal()}; 0 for a family the
 *     step did not run
 * @param floorMicros per family, the same way: bytes read / measured copy bandwidth; NaN where no
 *     floor is known (the all-reduce)
 */
public record StepProfile(int batch, double stepMicros, List<Double> familyMicros, List<Double> floorMicros) {

  public StepProfile {
    familyMicros = List.copyOf(familyMicros);
    floorMicros = List.copyOf(floorMicros);
    int n = KernelFamily.ALL.size();
    if (familyMicros.size() != n || floorMicros.size() != n) {
      throw new IllegalArgumentException("a step profile has one value per kernel family (" + n + "), got "
          + familyMicros.size() + " times and " + floorMicros.size() + " floors");
    }
  }

  /**
   * The profile of a step whose families took {@code familyMicros} and read {@code familyBytes}
   * (NaN: unknown), the backend copying {@code bytesPerMicro} bytes per µs.
   */
  public static StepProfile of(int batch, double stepMicros, double[] familyMicros, double[] familyBytes,
      double bytesPerMicro) {
    List<Double> times = new ArrayList<>();
    List<Double> floors = new ArrayList<>();
    for (int i = 0; i < KernelFamily.ALL.size(); i++) {
      times.add(familyMicros[i]);
      floors.add(bytesPerMicro > 0 ? familyBytes[i] / bytesPerMicro : Double.NaN);
    }
    return new StepProfile(batch, stepMicros, times, floors);
  }

  /**
   * This profile with each family's floor raised to its FLOPs over {@code flopsPerUs} where that is
   * larger (a prefill's projections are bound by the matmul rate, not by their weights' bytes); a
   * family without a byte floor (NaN) keeps none.
   *
   * @param flops per family ({@link StepFlops}), indexed by {@link KernelFamily#ordinal()}
   * @param flopsPerUs the device's best measured matmul rate; not finite or not positive: unchanged
   */
  public StepProfile withComputeFloors(double[] flops, double flopsPerUs) {
    if (!(flopsPerUs > 0) || !Double.isFinite(flopsPerUs)) return this;
    List<Double> floors = new ArrayList<>();
    for (int i = 0; i < floorMicros.size(); i++) {
      double bytes = floorMicros.get(i);
      floors.add(Double.isNaN(bytes) ? bytes : Math.max(bytes, flops[i] / flopsPerUs));
    }
    return new StepProfile(batch, stepMicros, familyMicros, floors);
  }

  /** The mean of {@code profiles} (at least one), family by family. */
  public static StepProfile mean(List<StepProfile> profiles) {
    if (profiles.isEmpty()) throw new IllegalArgumentException("no profile to average");
    int families = KernelFamily.ALL.size();
    double[] time = new double[families];
    double[] floor = new double[families];
    double step = 0;
    double batch = 0;
    for (StepProfile p : profiles) {
      step += p.stepMicros();
      batch += p.batch();
      for (int i = 0; i < families; i++) {
        time[i] += p.familyMicros().get(i);
        floor[i] += p.floorMicros().get(i);
      }
    }
    int n = profiles.size();
    List<Double> times = new ArrayList<>();
    List<Double> floors = new ArrayList<>();
    for (int i = 0; i < families; i++) {
      times.add(time[i] / n);
      floors.add(floor[i] / n);
    }
    return new StepProfile((int) Math.round(batch / n), step / n, times, floors);
  }

  /** The tokens a profiled step picked (one per sample row) and its profile. */
  public record Run(int[] tokens, StepProfile profile) {
    public Run {
      Objects.requireNonNull(tokens, "tokens");
      Objects.requireNonNull(profile, "profile");
    }
  }
}
