package io.decodefleet.coordinator;

import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The fleet a {@code coordinator serve} node serves: {@code model} on {@code worldSize} agents in
 * {@code layout}. Every coordinator node of a cluster serves the same one; wherever the Coordinator
 * singleton starts, it loads it ({@link FleetTakeover}).
 *
 * @param timeout how long one attempt waits for the agents to join and load
 */
public record ServedFleet(int worldSize, ModelSpec model, ParallelLayout layout, Duration timeout) {

  /** The request that loads it, adopting agents that already hold the model. */
  public Coordinator.LoadFleet load(ActorRef<Coordinator.FleetStatus> replyTo) {
    return new Coordinator.LoadFleet(worldSize, model, timeout, layout, true, replyTo);
  }
}
