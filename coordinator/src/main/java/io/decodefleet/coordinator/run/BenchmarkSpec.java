package io.decodefleet.coordinator.run;

import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.time.Duration;
import java.util.List;

/**
 * One benchmark run: on how many agents, which model, which requests and how they are placed.
 *
 * @param worldSize agents that serve the run (the first worldSize of the fleet, by agent id)
 * @param requests the workload, in release order
 * @param placement a PlacementPolicy name
 * @param maxConcurrency most requests outstanding at once (closed loop); 0 = unlimited
 * @param agentTimeout how long to wait for worldSize agents to join and load the model
 * @param layout how the agents share each sequence (data-parallel, or disaggregated prefill/decode)
 */
public record BenchmarkSpec(int worldSize, ModelSpec model, List<RequestSpec> requests, String placement,
    int maxConcurrency, Duration agentTimeout, ParallelLayout layout) {

  /** A data-parallel run. */
  public BenchmarkSpec(int worldSize, ModelSpec model, List<RequestSpec> requests, String placement,
      int maxConcurrency, Duration agentTimeout) {
    this(worldSize, model, requests, placement, maxConcurrency, agentTimeout, ParallelLayout.DATA_PARALLEL);
  }

  /** The same run on {@code agents} agents. */
  public BenchmarkSpec withWorldSize(int agents) {
    return new BenchmarkSpec(agents, model, requests, placement, maxConcurrency, agentTimeout, layout);
  }
}
