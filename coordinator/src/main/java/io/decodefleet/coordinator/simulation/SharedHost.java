package io.decodefleet.coordinator.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Processor sharing of one host's cores by its agents' steps, for a calibration measured on a CPU
 * whose agents are engine threads of one process (its {@code host}): the busy engines have {@code c}
 * cores between them ({@code HostSharing.engineCores}: the host's, less what its other threads take),
 * and a step of {@code w} µs at full speed takes {@code w + s} of them, {@code s} being the CPU the
 * JVM's other threads spend on each step (its report's messaging, the coordinator's handling of it).
 * While steps of {@code w_1 … w_k} run, each advances at {@code min(1, c / Σ (u + s / w_i))} of its full
 * speed — {@code min(1, c / (u k))} without a per-step cost; u is the cores a step keeps busy (1 for one
 * engine thread, more for an expert-parallel replica's rank threads: its table's measured {@code
 * busy_cores} over the single device's) — so every start and end of a step changes when
 * the others end, and many short steps (a large fleet's decode) leave the engines less of the cores than
 * a few long ones.
 */
final class SharedHost {
  private final double cores;
  private final double stepCpuMicros;
  private final double coresPerStep;
  private final List<SimulatedAgent> running = new ArrayList<>();

  /**
   * @param cores the cores the busy steps have between them (the host's, less what its other threads take)
   * @param stepCpuMicros the other threads' CPU per step, µs
   * @param coresPerStep the cores a step keeps busy at full speed, one engine thread counting 1 ({@link
   *     FleetSimulation#coresPerStep}: an expert-parallel replica's K rank threads, which wait on each
   *     other's exchanges, between 1 and K)
   */
  SharedHost(double cores, double stepCpuMicros, double coresPerStep) {
    if (!(coresPerStep > 0)) throw new IllegalArgumentException("coresPerStep must be > 0, got " + coresPerStep);
    this.cores = cores;
    this.stepCpuMicros = stepCpuMicros;
    this.coresPerStep = coresPerStep;
  }

  /**
   * {@code agent} starts a step of {@code workMicros} at full speed at {@code now}; {@code reschedule}
   * is told every running step whose end moved (its generation raised: older end events are stale).
   */
  void start(SimulatedAgent agent, double workMicros, long now, Consumer<SimulatedAgent> reschedule) {
    advance(now);
    agent.workLeftMicros = workMicros;
    agent.stepWorkMicros = workMicros;
    agent.workSince = now;
    agent.rate = Double.NaN; // so that share() schedules its end with the others'
    running.add(agent);
    share(reschedule);
  }

  /** {@code agent}'s step ended (or the agent was lost) at {@code now}. */
  void stop(SimulatedAgent agent, long now, Consumer<SimulatedAgent> reschedule) {
    advance(now);
    if (running.remove(agent)) share(reschedule);
  }

  /** Nanoseconds until {@code agent}'s step ends at its present rate. */
  static long nanosLeft(SimulatedAgent agent) {
    return (long) Math.ceil(agent.workLeftMicros * 1e3 / agent.rate);
  }

  private void advance(long now) {
    for (SimulatedAgent a : running) {
      a.workLeftMicros = Math.max(0, a.workLeftMicros - (now - a.workSince) / 1e3 * a.rate);
      a.workSince = now;
    }
  }

  private void share(Consumer<SimulatedAgent> reschedule) {
    double demand = 0;
    for (SimulatedAgent a : running) demand += coresPerStep + stepCpuMicros / Math.max(1, a.stepWorkMicros);
    double rate = Math.min(1.0, cores / Math.max(1, demand));
    for (SimulatedAgent a : running) {
      if (a.rate != rate) {
        a.rate = rate;
        a.generation++;
        reschedule.accept(a);
      }
    }
  }
}
