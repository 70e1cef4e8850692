package io.decodefleet.coordinator.run;

import io.decodefleet.coordinator.fleet.SequenceEvent;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a {@link BenchmarkRun} asks of the coordinator that hosts it: the run's port, so that the
 * run knows nothing of the Coordinator's own protocol (the Coordinator adapts these to its messages).
 */
public interface RunRequest {

  /** The cluster as it is now. */
  record Snapshot(ActorRef<ClusterSnapshot> replyTo) implements RunRequest {}

  /**
   * Place one sequence among the first {@code worldSize} loaded agents; its events go to {@code subscriber}.
   */
  record Place(long requestId, int[] prompt, int maxTokens, int worldSize, String placement,
      ActorRef<SequenceEvent> subscriber) implements RunRequest {}

  /** The run is over: the host passes {@code outcome} to whoever asked for the run, and may start another. */
  record Ended(RunOutcome outcome) implements RunRequest {}
}
