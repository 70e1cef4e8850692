package io.decodefleet.agent;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The phase of every agent on this node, written by the agents and read by the readiness check
 * (Pekko Management's {@code /ready}). One per ActorSystem.
 */
public final class NodeHealth implements Extension {

  public enum Phase {
    /** Spawned, not yet registered by a coordinator. */
    STARTING,
    /** Registered by a coordinator, no model: idle and ready for one. */
    REGISTERED,
    LOADING,
    LOADED,
    FAILED,
    DRAINING,
    /** Refused by the coordinator: its id is another live node's. */
    REFUSED
  }

  private static final ExtensionId<NodeHealth> ID = new ExtensionId<>() {
    @Override
    public NodeHealth createExtension(ActorSystem<?> system) {
      return new NodeHealth();
    }
  };

  private final Map<String, Phase> phases = new ConcurrentHashMap<>();
  private final CompletableFuture<String> refusal = new CompletableFuture<>();

  public static NodeHealth get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public void set(String agentId, Phase phase) {
    phases.put(agentId, phase);
  }

  /**
   * The coordinator refused agent {@code agentId} of this node (its id is held by an agent of another
   * node): the node cannot serve as started, and {@link #refusal()} completes with {@code line}.
   */
  public void refused(String agentId, String line) {
    phases.put(agentId, Phase.REFUSED);
    refusal.complete(line);
  }

  /** Completes with the coordinator's one line when it refuses an agent of this node (the daemon exits on it). */
  public CompletionStage<String> refusal() {
    return refusal;
  }

  public Map<String, Phase> phases() {
    return Map.copyOf(phases);
  }

  /** Ready: at least one agent, and every agent idle-and-registered or loaded. */
  public boolean ready() {
    return !phases.isEmpty() && phases.values().stream().allMatch(p -> p == Phase.REGISTERED || p == Phase.LOADED);
  }
}
