package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.List;

/**
 * One simulated run: a fleet of {@code gpus} devices in {@code layout}, each agent's engine as {@code
 * model} says (0 and AUTO fields take the calibration's device defaults), the workload, how it is
 * placed and released, the device's step times, and the agents lost on the way.
 *
 * @param gpus devices of the fleet: one agent each, or one per K with tp=K
 * @param placement a PlacementPolicy name
 * @param maxConcurrency most requests outstanding at once; 0 = unlimited
 * @param decodePath the calibration table's decode path (null: its only one)
 * @param failures agents lost at virtual times
 * @param failureDetectionNanos from an agent's loss to the coordinator's noticing it (its sequences
 *     are re-placed then)
 * @param clusterAgents agent nodes of the cluster the run's agents are part of (a sweep of the embedded
 *     cluster loads its largest world size once: the idle ones take their share of a shared host too);
 *     at least the run's own agents
 */
public record SimulationSpec(int gpus, ParallelLayout layout, ModelSpec model, List<RequestSpec> requests,
    String placement, int maxConcurrency, StepCalibration calibration, String decodePath, List<AgentFailure> failures,
    long failureDetectionNanos, int clusterAgents) {

  /** A run whose cluster is its own agents. */
  public SimulationSpec(int gpus, ParallelLayout layout, ModelSpec model, List<RequestSpec> requests, String placement,
      int maxConcurrency, StepCalibration calibration, String decodePath, List<AgentFailure> failures,
      long failureDetectionNanos) {
    this(gpus, layout, model, requests, placement, maxConcurrency, calibration, decodePath, failures,
        failureDetectionNanos, gpus / layout.tensorParallel());
  }

  public SimulationSpec {
    if (gpus < 1) throw new IllegalArgumentException("world size must be >= 1, got " + gpus);
    if (gpus % layout.tensorParallel() != 0) {
      throw new IllegalArgumentException("world size " + gpus + " is not a multiple of " + layout.label());
    }
    if (clusterAgents < gpus / layout.tensorParallel()) {
      throw new IllegalArgumentException("the cluster's " + clusterAgents + " agents cannot hold the run's "
          + gpus / layout.tensorParallel());
    }
    requests = List.copyOf(requests);
    failures = List.copyOf(failures);
  }

  /** Agents of the fleet: one per device, or per K devices with tp=K. */
  public int agents() {
    return gpus / layout.tensorParallel();
  }
}
