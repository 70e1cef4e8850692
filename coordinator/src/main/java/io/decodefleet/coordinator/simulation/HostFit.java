package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.coordinator.metrics.EngineTotals;
import java.util.function.Function;

/**
 * Fits a CPU calibration's host term to real runs on the embedded cluster ({@code coordinator
 * calibrate-host}): the cores its busy engines had between them and the CPU the JVM's other threads
 * spend on each step, found by simulating the runs with other values until each simulated run takes as
 * long as the real one did (its duration, over which its throughput is measured). The duration rather
 * than the engines' summed step time: the host also takes its share between steps, and it shares its
 * cores unevenly (on a 2-core host the 8 engines of one run ended their last steps 1.7 to 3.0 s into it,
 * 2.3 to 2.6 s simulated), which a fit to the step time alone leaves out (it made throughput 10–16 %
 * optimistic at world sizes 2 to 8).
 *
 * <p>Why not count the JVM's other threads' CPU instead: their CPU is not what the engines lose. Much of
 * it (the JIT compiling the cluster's code throughout a young JVM's first minute, the dispatchers' spinning
 * before they park) fills cores the engines leave idle, and a busy host stretches it further; counted, it
 * made a quiet 2-core host's 8-agent cluster look like 1.45 cores of engines where runs took as long as
 * 1.78 cores and a per-step cost of 0.26 ms give. Fitting the runs' times measures what the simulation
 * needs, whatever the other threads do.
 */
public final class HostFit {
  private HostFit() {}

  /**
   * The engine cores with which the simulation's engines spend {@code realStepSeconds} in their steps:
   * {@code simulatedStepSeconds} gives that sum for a host of {@code cores} cores whose engines have the
   * given cores between them, and falls as they grow. Between a tenth of a core and {@code cores}: a real
   * run faster than every engine at full speed gives {@code cores}.
   */
  public static double engineCores(Function<Double, Double> simulatedStepSeconds, double realStepSeconds, int cores) {
    double lo = 0.1;
    double hi = cores;
    if (simulatedStepSeconds.apply(hi) >= realStepSeconds) return hi;
    if (simulatedStepSeconds.apply(lo) <= realStepSeconds) return lo;
    for (int i = 0; i < 40; i++) {
      double mid = (lo + hi) / 2;
      if (simulatedStepSeconds.apply(mid) > realStepSeconds) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /** What simulating a world size on a host gives: the seconds the fit matches (the run's duration). */
  @FunctionalInterface
  public interface Simulated {
    double seconds(double engineCores, double stepCpuMicros, int worldSize);
  }

  /** The host's two fitted terms: the engines' cores and the other threads' CPU per step (µs). */
  public record Fit(double engineCores, double stepCpuMicros) {}

  /**
   * Both terms from two runs: one of few agents (few, long steps: the engines' cores show) and one of
   * many (many short steps: their per-step cost shows). For each per-step cost the cores are fitted to
   * the large run; the cost is then the one with which the small run also takes as long as the real one
   * did (0 when even without a cost the small run's simulation is quicker than the real run).
   *
   * @param upToMicros the largest per-step cost tried
   */
  public static Fit fit(Simulated sim, int small, double realSmall, int large, double realLarge, int cores,
      double upToMicros) {
    Function<Double, Double> coresFor = s -> engineCores(c -> sim.seconds(c, s, large), realLarge, cores);
    if (sim.seconds(coresFor.apply(0.0), 0, small) <= realSmall) return new Fit(coresFor.apply(0.0), 0);
    double lo = 0;
    double hi = upToMicros;
    // Past the cost at which the large run needs every core, a larger one cannot match it.
    while (hi > 1 && coresFor.apply(hi) >= cores) hi /= 2;
    if (sim.seconds(coresFor.apply(hi), hi, small) > realSmall) return new Fit(coresFor.apply(hi), hi);
    for (int i = 0; i < 25; i++) {
      double mid = (lo + hi) / 2;
      if (sim.seconds(coresFor.apply(mid), mid, small) > realSmall) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    double s = (lo + hi) / 2;
    return new Fit(coresFor.apply(s), s);
  }

  /**
   * The host of {@code cores} cores on which the busy engines have {@code engineCores} between them, as
   * the calibration writes it: {@code other_cpu = cores / engineCores − 1}, nothing per agent node (the
   * engines' share was measured in the cluster the simulation's sweeps run in).
   */
  public static StepCalibration.HostSharing host(int cores, double engineCores, double stepInflation,
      String measuredBy) {
    return host(cores, new Fit(engineCores, 0), stepInflation, measuredBy);
  }

  /** The host of a {@link Fit}, as the calibration writes it (see the other {@code host}). */
  public static StepCalibration.HostSharing host(int cores, Fit fit, double stepInflation, String measuredBy) {
    return new StepCalibration.HostSharing(cores, Math.max(0, cores / fit.engineCores() - 1), 0, stepInflation,
        measuredBy, fit.stepCpuMicros());
  }

  /** The sum of a run's step times, seconds. */
  public static double stepSeconds(EngineTotals e) {
    return e.reportedSteps() * e.meanStepMs() / 1e3;
  }
}
