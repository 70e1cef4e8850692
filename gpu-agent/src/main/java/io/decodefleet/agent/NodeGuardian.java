package io.decodefleet.agent;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.protocol.AgentCommand;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * One per gpu-agent JVM: spawns one {@link GpuAgent} per local device and registers each with the
 * Receptionist, so the coordinator finds them wherever they run.
 */
public final class NodeGuardian extends AbstractBehavior<NodeGuardian.Command> {

  public interface Command {}

  /** Replies with the agents this node hosts. */
  public record ListAgents(ActorRef<Agents> replyTo) implements Command {}

  public record Agents(List<ActorRef<AgentCommand>> agents) {}

  /** Drain every agent (their sequences go back to the coordinator), then reply. */
  public record DrainAll(ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

  private record AgentDrained() implements Command {}

  /**
   * One agent's device(s) and how its engine thread makes its backend.
   *
   * @param id globally unique agent id, e.g. "agent-3"
   * @param device human description of the device
   * @param backend "cpu" or "cuda"
   * @param factory creates the device's backend on the agent's engine thread
   * @param tensorParallel how many devices the backend spans (1, or K for a tensor- or expert-parallel group)
   * @param parallelism what a group of K > 1 devices splits
   */
  public record DeviceSlot(String id, String device, String backend, Supplier<Backend> factory, int tensorParallel,
      Parallelism parallelism) {
    public DeviceSlot(String id, String device, String backend, Supplier<Backend> factory, int tensorParallel) {
      this(id, device, backend, factory, tensorParallel, Parallelism.TENSOR);
    }

    public DeviceSlot(String id, String device, String backend, Supplier<Backend> factory) {
      this(id, device, backend, factory, 1);
    }
  }

  private final List<ActorRef<AgentCommand>> agents;
  private final List<ActorRef<org.apache.pekko.Done>> drainWaiters = new java.util.ArrayList<>();
  private int drainsPending = -1;

  public static Behavior<Command> create(List<DeviceSlot> slots) {
    return Behaviors.setup(ctx -> new NodeGuardian(ctx, slots));
  }

  private NodeGuardian(ActorContext<Command> context, List<DeviceSlot> slots) {
    super(context);
    this.agents = slots.stream().map(slot -> {
      ActorRef<AgentCommand> agent = context.spawn(
          Behaviors.supervise(GpuAgent.create(slot.id(), slot.device(), slot.backend(), slot.factory(),
              slot.tensorParallel(), slot.parallelism()))
              .onFailure(SupervisorStrategy.restart()),
          slot.id());
      context.getSystem().receptionist().tell(Receptionist.register(AgentCommand.SERVICE_KEY, agent));
      return agent;
    }).toList();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ListAgents.class, this::onListAgents)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onMessage(AgentDrained.class, this::onAgentDrained)
        .build();
  }

  private Behavior<Command> onDrainAll(DrainAll msg) {
    drainWaiters.add(msg.replyTo());
    if (drainsPending < 0) {
      drainsPending = agents.size();
      ActorRef<org.apache.pekko.Done> done = getContext().messageAdapter(org.apache.pekko.Done.class, d -> new AgentDrained());
      for (ActorRef<AgentCommand> agent : agents) agent.tell(new GpuAgent.DrainForShutdown(done));
    }
    return drainsPending == 0 ? replyDrained() : this;
  }

  private Behavior<Command> onAgentDrained(AgentDrained msg) {
    drainsPending--;
    return drainsPending == 0 ? replyDrained() : this;
  }

  private Behavior<Command> replyDrained() {
    drainWaiters.forEach(w -> w.tell(org.apache.pekko.Done.getInstance()));
    drainWaiters.clear();
    return this;
  }

  private Behavior<Command> onListAgents(ListAgents msg) {
    msg.replyTo().tell(new Agents(agents));
    return this;
  }
}
