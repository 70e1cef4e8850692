package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.coordinator.metrics.EngineTotals;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Fits a CPU calibration's host term to real runs on the embedded cluster ({@code coordinator
 * calibrate-host}): the busy engines' share of the cores, the cores each agent node keeps busy and the CPU
 * the JVM's other threads spend on each step, found by simulating the runs with other values until the
 * simulated runs take as long as the real ones did (their durations, over which throughput is measured).
 * The duration rather than the engines' summed step time: the host also takes its share between steps, and
 * it shares its cores unevenly (on a 2-core host the 8 engines of one run ended their last steps 1.7 to
 * 3.0 s into it, 2.3 to 2.6 s simulated), which a fit to the step time alone leaves out (it made throughput
 * 10–16 % optimistic at world sizes 2 to 8).
 *
 * <p>Why not count the JVM's other threads' CPU instead: their CPU is not what the engines lose. Much of
 * it (the JIT compiling the cluster's code throughout a young JVM's first minute, the dispatchers' spinning
 * before they park) fills cores the engines leave idle, and a busy host stretches it further; counted, it
 * made a quiet 2-core host's 8-agent cluster look like 1.45 cores of engines where runs took as long as
 * 1.78 cores and a per-step cost of 0.26 ms give. Fitting the runs' times measures what the simulation
 * needs, whatever the other threads do.
 *
 * <p>Why least squares over several world sizes rather than two runs matched exactly (what this did
 * first): a quick world-size-2 run beside a world-size-8 run of the same host had no exact two-term answer
 * (few agents leave the engines more of the host than the one share both runs were given), so the fit ran
 * to its bound and its calibration missed a third of the cells on another workload. The per-agent term
 * ({@code agent_cpu}) models that difference, and noise between runs is averaged instead of fitted.
 */
public final class HostFit {
  private HostFit() {}

  /** A real run the least-squares fit matches: its world size (agent nodes in its cluster) and duration (s). */
  public record Run(int worldSize, double seconds) {
    public Run {
      if (worldSize < 1 || !(seconds > 0) || Double.isInfinite(seconds)) {
        throw new IllegalArgumentException("a run needs a world size >= 1 and a duration > 0, got " + worldSize
            + " and " + seconds);
      }
    }
  }

  /** What simulating a world size on a host of the three terms gives: the run's duration (s). */
  @FunctionalInterface
  public interface SimulatedHost {
    double seconds(double otherCpu, double agentCpu, double stepCpuMicros, int worldSize);
  }

  /**
   * The host's three terms as {@link StepCalibration.HostSharing} holds them, and how far the simulated runs
   * stay from the real ones: the root mean square of {@code ln(simulated / real)} over the runs.
   */
  public record Terms(double otherCpu, double agentCpu, double stepCpuMicros, double rmsLogError) {}

  /**
   * The three host terms that bring the simulated runs closest to the real ones in the least-squares sense
   * (the sum over runs of {@code ln(simulated / real)²}): the busy engines' share of the cores ({@code
   * other_cpu}), the cores each agent node keeps busy ({@code agent_cpu}: few agents leave the engines more
   * of the host than many do) and the other threads' CPU per step ({@code step_cpu_us}). Runs of one world
   * size count as their geometric mean duration, weighted by how many there are, so one simulation serves
   * them all. Where two runs cannot both be matched (a quick run of few agents beside a slow one of many,
   * which matching the pair exactly had no answer for) the fit takes the compromise instead of a bound.
   *
   * <p>Nelder–Mead over the square roots of the scaled terms (so each stays at or above 0), from a few
   * starts; the simulation is a step function of its terms, so a gradient method would not do.
   *
   * @param upToMicros the largest per-step cost allowed
   */
  public static Terms leastSquares(SimulatedHost sim, List<Run> runs, int cores, double upToMicros) {
    return leastSquares(sim, runs, cores, upToMicros, 0);
  }

  /**
   * As {@link #leastSquares(SimulatedHost, List, int, double)}, for runs made in one cluster of {@code
   * clusterAgents} agent nodes (a sweep, as {@code simulate --compare-real} runs its world sizes): every run
   * then has the same agent nodes, so {@code agent_cpu} cannot be told from {@code other_cpu} and stays 0;
   * 0 for runs each in a cluster of its own agents.
   */
  public static Terms leastSquares(SimulatedHost sim, List<Run> runs, int cores, double upToMicros,
      int clusterAgents) {
    if (runs.isEmpty()) throw new IllegalArgumentException("the least-squares fit needs at least one run");
    TreeMap<Integer, double[]> bySize = new TreeMap<>();
    for (Run r : runs) {
      double[] sumAndCount = bySize.computeIfAbsent(r.worldSize(), k -> new double[2]);
      sumAndCount[0] += Math.log(r.seconds());
      sumAndCount[1]++;
    }
    int largest = bySize.lastKey();
    // agent_cpu below the point where the largest run's engines would be left a tenth of a core.
    double maxAgentCpu = clusterAgents > 0 ? 0 : Math.max(0, (cores - 0.1) / largest);
    Function<double[], double[]> decode = x -> new double[] {
        x[0] * x[0], Math.min(maxAgentCpu, x[1] * x[1] / 10), Math.min(upToMicros, x[2] * x[2] * 1000)};
    ToDoubleFunction<double[]> error = x -> {
      double[] t = decode.apply(x);
      double sum = 0;
      for (var e : bySize.entrySet()) {
        double real = e.getValue()[0] / e.getValue()[1];
        double d = Math.log(sim.seconds(t[0], t[1], t[2], e.getKey())) - real;
        sum += e.getValue()[1] * d * d;
      }
      return sum;
    };
    double[] best = null;
    double bestError = Double.POSITIVE_INFINITY;
    for (double[] start : new double[][] {{0.3, 0.3, 0.5}, {0.1, 0.1, 1.2}, {0.6, 0.6, 0.2}}) {
      double[] x = NelderMead.minimise(error, start, 0.25, 160);
      double e = error.applyAsDouble(x);
      if (e < bestError) {
        bestError = e;
        best = x;
      }
    }
    double[] t = decode.apply(best);
    return new Terms(t[0], t[1], t[2], Math.sqrt(bestError / runs.size()));
  }

  /** The host of fitted {@link Terms}, as the calibration writes it. */
  public static StepCalibration.HostSharing host(int cores, Terms terms, double stepInflation, String measuredBy) {
    return new StepCalibration.HostSharing(cores, terms.otherCpu(), terms.agentCpu(), stepInflation, measuredBy,
        terms.stepCpuMicros());
  }

  /** The sum of a run's step times, seconds. */
  public static double stepSeconds(EngineTotals e) {
    return e.reportedSteps() * e.meanStepMs() / 1e3;
  }
}
