package io.decodefleet.coordinator.node;

import java.util.Optional;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The cluster role of coordinator nodes. The Coordinator singleton runs on the oldest member with it
 * (ClusterSingleton settings with this role), and the split brain resolver keeps the side of the
 * partition that has it (decodefleet-cluster.conf).
 */
public final class CoordinatorRole {
  public static final String NAME = "coordinator";

  private CoordinatorRole() {}

  /** The member that hosts the Coordinator singleton as this node sees the cluster now, if any. */
  public static Optional<Member> host(ActorSystem<?> system) {
    Iterable<Member> members = Cluster.get(system).state().getMembers();
    return StreamSupport.stream(members.spliterator(), false)
        .filter(m -> m.hasRole(NAME) && (m.status() == MemberStatus.up() || m.status() == MemberStatus.leaving()))
        .reduce((a, b) -> a.isOlderThan(b) ? a : b);
  }

  /** Whether the Coordinator singleton runs in this node. */
  public static boolean hostedHere(ActorSystem<?> system) {
    return host(system).map(m -> m.equals(Cluster.get(system).selfMember())).orElse(false);
  }
}
