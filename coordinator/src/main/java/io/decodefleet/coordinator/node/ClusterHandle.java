package io.decodefleet.coordinator.node;

import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** A running cluster as the coordinator's caller sees it: its node's system and the singleton. */
public interface ClusterHandle extends AutoCloseable {
  ActorSystem<?> system();

  ActorRef<Coordinator.Command> coordinator();

  /** The metrics of this process's coordinator (what its /metrics serves). */
  CoordinatorMetrics metrics();

  @Override
  void close();
}
