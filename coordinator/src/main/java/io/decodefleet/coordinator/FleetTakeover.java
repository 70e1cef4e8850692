package io.decodefleet.coordinator;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A Coordinator singleton that starts on a serve node, first or after taking over from a
 * coordinator node that was lost or left, knows nothing of the fleet: this child of it loads the
 * node's {@link ServedFleet} in adopt mode. The agents are found through the Receptionist as for
 * any start; those that still hold the model keep their engine and answer at once (their previous
 * coordinator's sequences were aborted when this one registered, or when that one terminated), the
 * others load it. A failed attempt (too few agents yet, say) is tried again after {@link #RETRY}.
 */
public final class FleetTakeover extends AbstractBehavior<FleetTakeover.Command> {

  public interface Command {}

  private record Status(Coordinator.FleetStatus status) implements Command {}

  private enum Retry implements Command { INSTANCE }

  /** Pause between a failed load of the served fleet and the next attempt. */
  static final Duration RETRY = Duration.ofSeconds(5);

  private final ServedFleet fleet;
  private final ActorRef<Coordinator.Command> coordinator;
  private final TimerScheduler<Command> timers;
  private final ActorRef<Coordinator.FleetStatus> statusAdapter;
  private int attempts;

  public static Behavior<Command> create(ServedFleet fleet, ActorRef<Coordinator.Command> coordinator) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new FleetTakeover(ctx, timers, fleet, coordinator)));
  }

  private FleetTakeover(ActorContext<Command> context, TimerScheduler<Command> timers, ServedFleet fleet,
      ActorRef<Coordinator.Command> coordinator) {
    super(context);
    this.fleet = fleet;
    this.coordinator = coordinator;
    this.timers = timers;
    this.statusAdapter = context.messageAdapter(Coordinator.FleetStatus.class, Status::new);
    load();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Status.class, this::onStatus)
        .onMessage(Retry.class, this::onRetry)
        .build();
  }

  private void load() {
    attempts++;
    coordinator.tell(fleet.load(statusAdapter));
  }

  private Behavior<Command> onStatus(Status msg) {
    if (msg.status() instanceof Coordinator.FleetFailed failed) {
      getContext().getLog().warn("the coordinator could not load the served fleet ({} on {} agents, attempt {}): {}; "
          + "trying again in {} s", fleet.model().model(), fleet.worldSize(), attempts, failed.reason(),
          RETRY.toSeconds());
      timers.startSingleTimer(Retry.INSTANCE, RETRY);
      return this;
    }
    getContext().getLog().info("the coordinator serves {} on {} agents", fleet.model().model(), fleet.worldSize());
    return Behaviors.stopped();
  }

  private Behavior<Command> onRetry(Retry msg) {
    load();
    return this;
  }
}
