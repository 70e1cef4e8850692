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
 * @param profileSteps decode steps each agent of the run times per kernel family, on top of the
 *     model's own {@link ModelSpec#profileSteps} (a served fleet's model is fixed; one gRPC run asks
 *     for its own profile); 0: none
 */
public record BenchmarkSpec(int worldSize, ModelSpec model, List<RequestSpec> requests, String placement,
    int maxConcurrency, Duration agentTimeout, ParallelLayout layout, int profileSteps) {

  public BenchmarkSpec {
    if (profileSteps < 0) throw new IllegalArgumentException("profileSteps must be >= 0, got " + profileSteps);
  }

  /** A run profiled as its model says. */
  public BenchmarkSpec(int worldSize, ModelSpec model, List<RequestSpec> requests, String placement,
      int maxConcurrency, Duration agentTimeout, ParallelLayout layout) {
    this(worldSize, model, requests, placement, maxConcurrency, agentTimeout, layout, 0);
  }

  /** A data-parallel run. */
  public BenchmarkSpec(int worldSize, ModelSpec model, List<RequestSpec> requests, String placement,
      int maxConcurrency, Duration agentTimeout) {
    this(worldSize, model, requests, placement, maxConcurrency, agentTimeout, ParallelLayout.DATA_PARALLEL);
  }

  /** The same run on {@code agents} agents. */
  public BenchmarkSpec withWorldSize(int agents) {
    return new BenchmarkSpec(agents, model, requests, placement, maxConcurrency, agentTimeout, layout, profileSteps);
  }

  /** The same run, each agent profiling its first {@code steps} decode-only steps of it. */
  public BenchmarkSpec withProfileSteps(int steps) {
    return new BenchmarkSpec(worldSize, model, requests, placement, maxConcurrency, agentTimeout, layout, steps);
  }
}
