package io.decodefleet.coordinator;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** A fleet load the Coordinator has begun: its request and everyone waiting for the fleet. */
final class PendingLoad {
  final Coordinator.LoadFleet request;
  final List<ActorRef<Coordinator.FleetStatus>> waiters = new ArrayList<>();
  /** Whether LoadModel went out to the agents (else it waits for enough of them to join). */
  boolean loading;

  PendingLoad(Coordinator.LoadFleet request) {
    this.request = request;
    waiters.add(request.replyTo());
  }

  /**
   * Why the load failed when its time was up: {@code loaded} agents had loaded the model and
   * {@code joined} agents of the layout's kind had joined the cluster; {@code refusal}, the last
   * agent refused for holding another's id ("" if none), may be why too few joined.
   */
  String timeoutReason(long loaded, int joined, String refusal) {
    long secs = request.timeout().toSeconds();
    int k = request.layout().tensorParallel();
    String flag = request.layout().parallelism() == io.decodefleet.agent.engine.tp.Parallelism.EXPERT
        ? "--expert-parallel " : "--tensor-parallel ";
    String agents = k > 1 ? " agents of " + k + " GPUs (gpu-agent " + flag + k + ")" : " agents";
    String why = loading
        ? "only " + loaded + " of " + request.worldSize() + " agents loaded model " + request.model().model()
            + " within " + secs + " s"
        : "only " + joined + " of " + request.worldSize() + agents + " joined within " + secs + " s";
    return refusal.isEmpty() ? why : why + "; " + refusal;
  }
}
