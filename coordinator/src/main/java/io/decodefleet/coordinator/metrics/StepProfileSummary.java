package io.decodefleet.coordinator.metrics;

import io.decodefleet.agent.engine.KernelFamily;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's profiled decode steps ({@code --profile-steps N}: each agent's first N decode-only steps of
 * the run, every kernel family timed), over its agents: report.json's "profile" of a point.
 *
 * @param backend the agents' backend: "cpu" (host clock around each op) or "cuda" (device time between
 *     CUDA events of an eager run of the step's launches)
 * @param steps profiled steps over all agents
 * @param meanBatch sequences per profiled step
 * @param stepMs the whole profiled step, mean, ms: measured around it, independently of the families
 * @param families one line per kernel family, in step order
 * @param untimedMs the step's time outside every family (input and output copies, host work), mean, ms
 */
public record StepProfileSummary(String backend, long steps, double meanBatch, double stepMs,
    List<FamilyTime> families, double untimedMs) {

  public StepProfileSummary {
    families = List.copyOf(families);
  }

  /**
   * One kernel family of the profiled step.
   *
   * @param family its name ("attention", "qkv_proj", ...)
   * @param msPerStep its time per step, mean, ms
   * @param share {@code msPerStep} over the step's time
   * @param floorMs its floor per step: bytes it reads at the measured copy bandwidth; NaN where none is known
   */
  public record FamilyTime(String family, double msPerStep, double share, double floorMs) {}

  /**
   * The summary of sums over {@code steps} profiled steps of {@code sequences} sequences in all:
   * their measured time and per {@link KernelFamily} (in its order) time and floor, µs; null when no
   * step was profiled.
   */
  public static StepProfileSummary of(String backend, long steps, long sequences, double stepMicros,
      List<Double> familyMicros, List<Double> floorMicros) {
    if (steps <= 0 || familyMicros.size() != KernelFamily.ALL.size()) return null;
    double stepMs = stepMicros / 1e3 / steps;
    List<FamilyTime> families = new ArrayList<>();
    double timed = 0;
    for (KernelFamily f : KernelFamily.ALL) {
      double ms = familyMicros.get(f.ordinal()) / 1e3 / steps;
      timed += ms;
      families.add(new FamilyTime(f.key(), ms, stepMs > 0 ? ms / stepMs : Double.NaN,
          floorMicros.get(f.ordinal()) / 1e3 / steps));
    }
    return new StepProfileSummary(backend, steps, (double) sequences / steps, stepMs, families, stepMs - timed);
  }

  /** The families' time per step, summed, ms. */
  public double familiesMs() {
    return families.stream().mapToDouble(FamilyTime::msPerStep).sum();
  }

  /** The families' floors per step, summed where known, ms. */
  public double floorMs() {
    return families.stream().mapToDouble(FamilyTime::floorMs).filter(Double::isFinite).sum();
  }
}
