package io.decodefleet.agent;

import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import scala.Option;
import scala.collection.immutable.SortedSet;
import scala.math.Ordering;

/**
 * The split brain resolver's rule without Kubernetes: the side of a partition with more coordinator
 * nodes survives; where both have as many, the side with more members (agents count here); where that
 * ties too, the side with the oldest coordinator node (the one hosting the Coordinator). Every node
 * reaches the same verdict from the same view, so at most one side goes on.
 *
 * <p>Pekko's keep-oldest cannot fail two coordinator nodes over on a crash: from the younger one the
 * crash of the oldest looks like a split of one against one, which keep-oldest gives to the oldest.
 * Here the agents are the witnesses: the younger coordinator and every agent against the lone oldest
 * is a majority of members, so it survives, and a real partition that isolates the oldest coordinator
 * alone ends the same way on both sides (the isolated node downs itself). A split that leaves both
 * coordinators with as many agents keeps the oldest's side, as keep-oldest would.
 *
 * <p>It runs inside Pekko's own resolver ({@code SplitBrainResolver}, through {@link
 * CoordinatorMajorityDowning}), which supplies the view, {@code stable-after}, indirectly connected
 * nodes, and the downing itself; {@code DowningStrategy} is Pekko's internal API (fixed by the Pekko
 * version in the build). As with Pekko's keep-majority, a membership change under way during the
 * partition (a node joining or leaving) that could change the verdict downs everyone instead.
 */
final class CoordinatorMajority extends DowningStrategy {
  private final Option<String> role;

  CoordinatorMajority(String selfDc, Option<String> role, UniqueAddress self) {
    super(selfDc, self);
    this.role = role;
  }

  @Override
  public Option<String> role() {
    return role;
  }

  /** Oldest first, so the head of a set of coordinator nodes is the one hosting the Coordinator. */
  @Override
  public Ordering<Member> ordering() {
    return Member.ageOrdering();
  }

  @Override
  public Decision decide() {
    if (hasIndirectlyConnected()) return DowningStrategy.DownIndirectlyConnected$.MODULE$;
    Decision decision = decide(false);
    if (decision != DowningStrategy.DownUnreachable$.MODULE$) return decision;
    // The same verdict must hold with this side counted as small as it could be (no joining, no
    // leaving node) and the other as large (joining and leaving ones too, which may be Up or still
    // there on that side); if not, down all, as Pekko's keep-majority does.
    return decide(true) == decision ? decision : DowningStrategy.DownAll$.MODULE$;
  }

  /**
   * The verdict of this side; with {@code edge}, joining nodes count on the other side only and
   * leaving ones on this side not at all.
   */
  private Decision decide(boolean edge) {
    int thisCoordinators = reachableMembersWithRole(false, edge).size();
    int otherCoordinators = unreachableMembersWithRole(edge, false).size();
    if (thisCoordinators != otherCoordinators) return keepThisSide(thisCoordinators > otherCoordinators);
    int thisMembers = reachableMembers(false, edge).size();
    int otherMembers = unreachableMembers(edge, false).size();
    if (thisMembers != otherMembers) return keepThisSide(thisMembers > otherMembers);
    SortedSet<Member> coordinators = membersWithRole(false, edge);
    SortedSet<Member> all = members(false, edge);
    if (all.isEmpty()) return DowningStrategy.DownAll$.MODULE$;
    return keepThisSide(!unreachable(coordinators.isEmpty() ? all.head() : coordinators.head()));
  }

  private static Decision keepThisSide(boolean keep) {
    return keep ? DowningStrategy.DownUnreachable$.MODULE$ : DowningStrategy.DownReachable$.MODULE$;
  }
}
