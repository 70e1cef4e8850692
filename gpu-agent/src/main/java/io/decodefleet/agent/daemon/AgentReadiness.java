package io.decodefleet.agent.daemon;

import io.decodefleet.agent.NodeHealth;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Pekko Management readiness check ({@code /ready}): the node is Up in the cluster and every agent on
 * it is either registered and idle or has its model loaded. Configured under
 * {@code pekko.management.health-checks.readiness-checks}.
 */
public final class AgentReadiness implements Supplier<CompletionStage<Boolean>> {
  private final org.apache.pekko.actor.typed.ActorSystem<?> system;

  public AgentReadiness(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    boolean up = Cluster.get(system).selfMember().status() == MemberStatus.up();
    return CompletableFuture.completedFuture(up && NodeHealth.get(system).ready());
  }
}
