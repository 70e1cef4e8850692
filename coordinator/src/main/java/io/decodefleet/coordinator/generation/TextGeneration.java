package io.decodefleet.coordinator.generation;

import io.decodefleet.agent.observability.RequestLogContext;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.metrics.RequestRecord;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.text.IncrementalDetokenizer;
import io.decodefleet.coordinator.text.StopStrings;
import io.decodefleet.coordinator.text.Tokenizer;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import java.time.Duration;
import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One generation: submits the request's sequence, turns the coordinator's sequence events into text
 * deltas and a final Done for its API, and ends the sequence early where a stop string appears (the
 * agent is told to stop and free its KV). The stop token itself (EOS or a stop id) counts as a
 * completion token but adds no text; a stop string and what follows it are left out. Its log lines
 * (debug: submitted, done, failed, cancelled) carry the request id in the MDC ({@link RequestLogContext}).
 *
 * <p>The Coordinator is a cluster singleton, possibly on another node, reached through its proxy.
 * A Submit that no Coordinator accepts within {@link #ACCEPT_TIMEOUT} (none runs: its node was lost
 * and the next has not taken over yet) fails UNAVAILABLE rather than waiting; once accepted, the
 * generation watches the Coordinator that took it, and if that one terminates first (its node
 * failed or left) the sequence is lost with it: the generation fails UNAVAILABLE, which a client
 * retries (the next Coordinator does not know the sequence).
 */
public final class TextGeneration extends AbstractBehavior<TextGeneration.Command> {

  /** What a generation hears: its sequence's events, or that its client went away. */
  public sealed interface Command {}

  /** The API's client went away: the sequence is cancelled and nothing more is told. */
  public enum ClientGone implements Command { INSTANCE }

  private record FromFleet(SequenceEvent event) implements Command {}

  private enum NotAccepted implements Command { INSTANCE }

  /** How long a Submit may wait for a Coordinator to accept it (one answers at once when it runs). */
  public static final Duration ACCEPT_TIMEOUT = Duration.ofSeconds(5);

  private final ActorRef<Coordinator.Command> coordinator;
  private final ActorRef<GenerationEvent> out;
  private final GenerationRequest request;
  private final long requestId;
  private final long arrivalNanos;
  private final IncrementalDetokenizer detokenizer;
  private final StopStrings stops;
  private final MetricsRecorder timing;
  private int completionTokens;
  /** Whether a Coordinator accepted the Submit (and is watched). */
  private boolean accepted;
  /** This generation as the coordinator knows it (the subscriber of its sequence). */
  private final ActorRef<SequenceEvent> fleet;

  /**
   * Starts the generation at once: the sequence is submitted when the behavior is set up.
   *
   * @param requestId unique among this coordinator's API requests
   * @param arrivalNanos when the request arrived (System.nanoTime), the start of its TTFT
   */
  public static Behavior<Command> create(ActorRef<Coordinator.Command> coordinator, GenerationRequest request,
      Tokenizer tokenizer, long requestId, long arrivalNanos, ActorRef<GenerationEvent> out) {
    return create(coordinator, request, tokenizer, requestId, arrivalNanos, RequestObserver.NONE, out);
  }

  /** @param observer hears the request's tokens and completion (the process's live metrics) */
  public static Behavior<Command> create(ActorRef<Coordinator.Command> coordinator, GenerationRequest request,
      Tokenizer tokenizer, long requestId, long arrivalNanos, RequestObserver observer, ActorRef<GenerationEvent> out) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(NotAccepted.INSTANCE, ACCEPT_TIMEOUT);
      return new TextGeneration(ctx, coordinator, request, tokenizer, requestId, arrivalNanos, observer, out);
    }));
  }

  private TextGeneration(ActorContext<Command> context, ActorRef<Coordinator.Command> coordinator,
      GenerationRequest request, Tokenizer tokenizer, long requestId, long arrivalNanos, RequestObserver observer,
      ActorRef<GenerationEvent> out) {
    super(context);
    this.timing = new MetricsRecorder(observer);
    this.coordinator = coordinator;
    this.out = out;
    this.request = request;
    this.requestId = requestId;
    this.arrivalNanos = arrivalNanos;
    this.detokenizer = new IncrementalDetokenizer(tokenizer, request.promptTokens(), request.skipSpecialTokens());
    this.stops = new StopStrings(request.stopStrings());
    timing.requestReleased(requestId, request.promptTokens().length, request.maxTokens(), arrivalNanos);
    this.fleet = context.messageAdapter(SequenceEvent.class, FromFleet::new);
    debug("request {} submitted: {} prompt tokens, max_tokens {}", requestId, request.promptTokens().length,
        request.maxTokens());
    coordinator.tell(new Coordinator.Submit(requestId, request.promptTokens(), request.maxTokens(), request.sampling(),
        0, PlacementPolicy.DEFAULT, fleet));
  }

  /** A debug line about this request, with its id in the MDC. */
  private void debug(String format, Object... args) {
    if (!getContext().getLog().isDebugEnabled()) return;
    try (RequestLogContext ignored = RequestLogContext.of(requestId)) {
      getContext().getLog().debug(format, args);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(FromFleet.class, this::onFromFleet)
        .onMessage(ClientGone.class, this::onClientGone)
        .onMessage(NotAccepted.class, this::onNotAccepted)
        .onSignal(Terminated.class, this::onCoordinatorLost)
        .build();
  }

  private Behavior<Command> onFromFleet(FromFleet msg) {
    SequenceEvent e = msg.event();
    if (e instanceof SequenceEvent.Accepted a) return onAccepted(a);
    if (e instanceof SequenceEvent.Tokens t) return onTokens(t);
    if (e instanceof SequenceEvent.Migrated m) return onMigrated(m);
    if (e instanceof SequenceEvent.Finished f) return onFinished(f);
    if (e instanceof SequenceEvent.Failed f) return onFailed(f);
    return this;
  }

  private Behavior<Command> onAccepted(SequenceEvent.Accepted a) {
    accepted = true;
    getContext().watch(a.coordinator());
    return this;
  }

  private Behavior<Command> onNotAccepted(NotAccepted msg) {
    if (accepted) return this;
    coordinator.tell(new Coordinator.Cancel(requestId, fleet)); // should the Submit still reach one
    return onFailed(new SequenceEvent.Failed(requestId, FailureKind.UNAVAILABLE, "no coordinator took the request "
        + "within " + ACCEPT_TIMEOUT.toSeconds() + " s (none is running: a coordinator node may be failing over); "
        + "retry", System.nanoTime()));
  }

  private Behavior<Command> onCoordinatorLost(Terminated msg) {
    return onFailed(new SequenceEvent.Failed(requestId, FailureKind.UNAVAILABLE, "the coordinator serving this "
        + "request was lost (its node failed or left) after " + completionTokens + " tokens; retry",
        System.nanoTime()));
  }

  private Behavior<Command> onClientGone(ClientGone msg) {
    debug("request {} cancelled: the client went away after {} tokens", requestId, completionTokens);
    coordinator.tell(new Coordinator.Cancel(requestId, fleet));
    return Behaviors.stopped();
  }

  private Behavior<Command> onTokens(SequenceEvent.Tokens t) {
    timing.tokensArrived(requestId, t.agentId(), t.tokens().length, t.nanos());
    int[] textTokens = t.tokens();
    for (int i = 0; i < t.tokens().length; i++) {
      completionTokens++;
      if (request.sampling().stopsAt(t.tokens()[i], completionTokens)) {
        textTokens = Arrays.copyOf(t.tokens(), i); // the engine ends the sequence on it
        break;
      }
    }
    StopStrings.Delta r = stops.append(detokenizer.add(textTokens));
    out.tell(new GenerationEvent.Delta(r.text(), t.tokens(), t.agentId(), (t.nanos() - arrivalNanos) / 1e6));
    if (r.stopped()) {
      coordinator.tell(new Coordinator.Cancel(requestId, fleet));
      return done("stop", -1, -1, t.nanos());
    }
    return this;
  }

  private Behavior<Command> onMigrated(SequenceEvent.Migrated m) {
    timing.requestMigrated(requestId, m.fromAgent(), m.toAgent());
    return this;
  }

  private Behavior<Command> onFinished(SequenceEvent.Finished f) {
    StopStrings.Delta r = stops.append(detokenizer.flush());
    String rest = r.text() + stops.flush();
    if (!rest.isEmpty()) out.tell(new GenerationEvent.Delta(rest, new int[0], f.agentId(), (f.nanos() - arrivalNanos) / 1e6));
    return done(r.stopped() || "stop".equals(f.reason()) ? "stop" : "length", f.queueNanos(), f.prefillNanos(),
        f.nanos());
  }

  private Behavior<Command> done(String reason, long queueNanos, long prefillNanos, long nanos) {
    timing.requestFinished(requestId, reason, queueNanos, prefillNanos, nanos);
    RequestRecord record = timing.requests().get(0);
    debug("request {} done: {}, {} completion tokens, TTFT {} ms, E2E {} ms", requestId, reason, completionTokens,
        record.ttftMs(), record.e2eMs());
    out.tell(new GenerationEvent.Done(reason, request.promptTokens().length, completionTokens, record));
    out.tell(GenerationEvent.End.INSTANCE);
    return Behaviors.stopped();
  }

  private Behavior<Command> onFailed(SequenceEvent.Failed f) {
    debug("request {} failed ({}): {}", requestId, f.kind(), f.reason());
    out.tell(new GenerationEvent.Failed(f.kind(), f.reason()));
    out.tell(GenerationEvent.End.INSTANCE);
    return Behaviors.stopped();
  }
}
