package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.coordinator.metrics.AgentOrder;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The agents registered with the coordinator, one value replaced on each registration and listing.
 * An agent id names one agent: reports, placement and metrics are keyed by it, so a second agent
 * that gives the id of a live agent on another node is refused (two daemons started with one
 * {@code --node-name}). Where the holder's node is not live (unreachable, leaving, or restarted on the
 * same address) the newcomer waits until the holder is gone from the cluster, then registers.
 *
 * @param agents the registered agents, in the order they registered
 * @param waiting agents whose id a gone or going agent still holds: asked to register again at the
 *     next listing
 * @param lastRefusal the line of the last refusal, or "" (said again when a fleet does not form)
 */
public record AgentRegistry(Map<ActorRef<AgentCommand>, AgentInfo> agents, Set<ActorRef<AgentCommand>> waiting,
    String lastRefusal) {

  public static final AgentRegistry EMPTY = new AgentRegistry(Map.of(), Set.of(), "");

  public AgentRegistry {
    agents = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(agents));
    waiting = Set.copyOf(waiting);
  }

  /**
   * What became of a registration.
   *
   * @param registry the registry from now on
   * @param refusal the line to tell the newcomer when it is refused; empty when it registered or waits
   */
  public record Admission(AgentRegistry registry, String refusal) {
    public boolean refused() {
      return !refusal.isEmpty();
    }
  }

  /**
   * Registers {@code newcomer} unless another agent holds its id.
   *
   * @param liveNode whether the node at an address ({@code pekko://decodefleet@host:port}) is a live
   *     member of the cluster
   */
  public Admission admit(AgentInfo newcomer, Predicate<String> liveNode) {
    AgentInfo holder = agents.values().stream()
        .filter(a -> a.agentId().equals(newcomer.agentId()) && !a.ref().equals(newcomer.ref())).findFirst().orElse(null);
    Map<ActorRef<AgentCommand>, AgentInfo> nextAgents = new LinkedHashMap<>(agents);
    Set<ActorRef<AgentCommand>> nextWaiting = new HashSet<>(waiting);
    if (holder == null) {
      nextAgents.put(newcomer.ref(), newcomer);
      nextWaiting.remove(newcomer.ref());
      return new Admission(new AgentRegistry(nextAgents, nextWaiting, lastRefusal), "");
    }
    if (holder.nodeAddress().equals(newcomer.nodeAddress()) || !liveNode.test(holder.nodeAddress())) {
      nextWaiting.add(newcomer.ref());
      return new Admission(new AgentRegistry(nextAgents, nextWaiting, lastRefusal), "");
    }
    String refusal = "agent id " + newcomer.agentId() + " of the node at " + newcomer.nodeAddress()
        + " is held by the agent of the node at " + holder.nodeAddress() + ": refused (give each gpu-agent its own"
        + " --node-name)";
    nextWaiting.remove(newcomer.ref());
    return new Admission(new AgentRegistry(nextAgents, nextWaiting, refusal), refusal);
  }

  /** The registry of the agents still {@code listed} by the Receptionist (the others left the cluster). */
  public AgentRegistry retain(Set<ActorRef<AgentCommand>> listed) {
    Map<ActorRef<AgentCommand>, AgentInfo> nextAgents = new LinkedHashMap<>(agents);
    nextAgents.keySet().retainAll(listed);
    Set<ActorRef<AgentCommand>> nextWaiting = new HashSet<>(waiting);
    nextWaiting.retainAll(listed);
    return new AgentRegistry(nextAgents, nextWaiting, lastRefusal);
  }

  /** Whether {@code agent} waits for its id to be free (it is asked to register again). */
  public boolean waits(ActorRef<AgentCommand> agent) {
    return waiting.contains(agent);
  }

  public int size() {
    return agents.size();
  }

  /** The registered agents by id, in natural order ("agent-2" before "agent-10"). */
  public List<AgentInfo> sorted() {
    return agents.values().stream().sorted(Comparator.comparing(AgentInfo::agentId, AgentOrder.INSTANCE)).toList();
  }

  /**
   * The agents whose replicas are what {@code layout} loads ({@link AgentInfo#serves}), by id: a
   * tensor-parallel agent of K devices is no expert-parallel one of K, nor the other way round.
   */
  public List<AgentInfo> sorted(ParallelLayout layout) {
    return sorted().stream().filter(a -> a.serves(layout)).toList();
  }

  /**
   * Whether a node address names a live member of {@code cluster} as this node sees it now: joining or
   * up, and reachable.
   */
  public static Predicate<String> liveNodes(Cluster cluster) {
    Set<String> live = new HashSet<>();
    Set<Member> unreachable = cluster.state().getUnreachable();
    for (Member m : cluster.state().getMembers()) {
      MemberStatus status = m.status();
      boolean joinedOrUp = status == MemberStatus.up() || status == MemberStatus.weaklyUp()
          || status == MemberStatus.joining();
      if (joinedOrUp && !unreachable.contains(m)) live.add(m.address().toString());
    }
    return live::contains;
  }
}
