package io.decodefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.Member$;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import org.apache.pekko.util.Version;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The resolver's verdict on each side of a split, from that side's view: exactly one side goes on
 * (DownUnreachable) and the other downs itself (DownReachable), or, where a membership change under
 * way could flip it, everyone is downed. Members are named by role and age: {@code c1} is the oldest
 * coordinator node, {@code a1} an agent node.
 */
class CoordinatorMajorityTest {
  private static final DowningStrategy.Decision KEEP = DowningStrategy.DownUnreachable$.MODULE$;
  private static final DowningStrategy.Decision DOWN_SELF = DowningStrategy.DownReachable$.MODULE$;
  private static final DowningStrategy.Decision DOWN_ALL = DowningStrategy.DownAll$.MODULE$;

  private final List<Member> cluster = new ArrayList<>();
  private int nextUp = 1;

  private Member member(String name, String role) {
    UniqueAddress address = new UniqueAddress(new Address("pekko", "decodefleet", "127.0.0.1", 2000 + cluster.size()),
        cluster.size() + 1L);
    Member m = Member$.MODULE$.apply(address,
        CollectionConverters.asScala(java.util.Set.of(role, "dc-default")).<String>toSet(), Version.Zero())
        .copyUp(nextUp++);
    cluster.add(m);
    return m;
  }

  private Member coordinator(String name) {
    return member(name, "coordinator");
  }

  private Member agent(String name) {
    return member(name, "agent");
  }

  /** The verdict of the node {@code self}, which cannot reach {@code otherSide}. */
  private DowningStrategy.Decision seenFrom(Member self, List<Member> otherSide) {
    CoordinatorMajority strategy = new CoordinatorMajority("default", Option.apply("coordinator"), self.uniqueAddress());
    for (Member m : cluster) {
      if (otherSide.contains(m)) {
        strategy.addUnreachable(m);
      } else {
        strategy.add(m);
      }
    }
    return strategy.decide();
  }

  private DowningStrategy.Decision seenFrom(Member self, Member... otherSide) {
    return seenFrom(self, List.of(otherSide));
  }

  @Test
  void theCrashOfTheActiveOneOfTwoCoordinatorsLeavesTheOtherAndTheAgents() {
    Member c1 = coordinator("c1");
    Member c2 = coordinator("c2");
    Member a1 = agent("a1");
    agent("a2");
    assertEquals(KEEP, seenFrom(c2, c1), "c2 and the agents outnumber the lost c1");
    assertEquals(KEEP, seenFrom(a1, c1));
    assertEquals(DOWN_SELF, seenFrom(c1, cluster.subList(1, 4)), "c1 cut off alone downs itself");
  }

  @Test
  void aSplitThatLeavesEachCoordinatorAsManyAgentsKeepsTheOldestsSide() {
    Member c1 = coordinator("c1");
    Member c2 = coordinator("c2");
    Member a1 = agent("a1");
    Member a2 = agent("a2");
    assertEquals(KEEP, seenFrom(c1, c2, a2));
    assertEquals(KEEP, seenFrom(a1, c2, a2));
    assertEquals(DOWN_SELF, seenFrom(c2, c1, a1));
    assertEquals(DOWN_SELF, seenFrom(a2, c1, a1));
  }

  @Test
  void aTieInCoordinatorsGoesToTheSideWithMoreMembersWhateverTheAge() {
    Member c1 = coordinator("c1");
    Member c2 = coordinator("c2");
    Member a1 = agent("a1");
    Member a2 = agent("a2");
    Member a3 = agent("a3");
    assertEquals(KEEP, seenFrom(c2, c1, a1));
    assertEquals(DOWN_SELF, seenFrom(c1, c2, a2, a3));
  }

  @Test
  void moreCoordinatorNodesOutweighAgents() {
    Member c1 = coordinator("c1");
    Member c2 = coordinator("c2");
    Member c3 = coordinator("c3");
    Member a1 = agent("a1");
    Member a2 = agent("a2");
    assertEquals(KEEP, seenFrom(c2, c1, a1, a2));
    assertEquals(DOWN_SELF, seenFrom(c1, c2, c3));
    assertEquals(DOWN_SELF, seenFrom(a1, c2, c3));
  }

  @Test
  void aLostAgentIsDownedAndTheLoneCoordinatorsSideAlwaysStays() {
    Member c1 = coordinator("c1");
    Member a1 = agent("a1");
    Member a2 = agent("a2");
    assertEquals(KEEP, seenFrom(c1, a2));
    assertEquals(KEEP, seenFrom(c1, a1, a2), "one coordinator node against agents only");
    assertEquals(DOWN_SELF, seenFrom(a1, c1), "agents without a coordinator node wait for none");
  }

  @Test
  void aJoiningNodeThatCouldFlipTheVerdictDownsEveryone() {
    Member c1 = coordinator("c1");
    Member c2 = coordinator("c2");
    agent("a1");
    agent("a2");
    Member b1 = agent("b1");
    // b2 joins on c1's side as the split happens: to c2's side it may be Up over there already.
    UniqueAddress address = new UniqueAddress(new Address("pekko", "decodefleet", "127.0.0.1", 2999), 99L);
    Member b2 = Member$.MODULE$.apply(address,
        CollectionConverters.asScala(java.util.Set.of("agent", "dc-default")).<String>toSet(), Version.Zero());
    assertEquals(MemberStatus.joining(), b2.status());
    cluster.add(b2);
    // c2 with a1 and a2 (three) against c1 with b1 (two) and the joining b2: c2 would go on, unless
    // b2 is Up on c1's side, where it is three against three and the oldest, c1, goes on.
    assertEquals(DOWN_ALL, seenFrom(c2, c1, b1, b2));
  }
}
