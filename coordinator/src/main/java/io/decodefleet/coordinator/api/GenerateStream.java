package io.decodefleet.coordinator.api;

import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.api.TokenEvent;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.RequestRecord;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One Generate call: turns the coordinator's sequence events into the client's stream of token
 * events and the final summary. The summary's TTFT, TPOT, ITL and E2E are the benchmark's request
 * metrics ({@link MetricsRecorder}, one request released at the call's arrival), on the
 * coordinator's clock; a request without tokens reports 0 where those are undefined.
 */
final class GenerateStream extends AbstractBehavior<SequenceEvent> {

  /** What goes into the client's stream: an event, the end, or a failure with its gRPC status. */
  sealed interface Out {}

  record Emit(GenerateEvent event) implements Out {}

  enum Complete implements Out { INSTANCE }

  record Fail(io.grpc.Status status) implements Out {}

  private final ActorRef<Out> out;
  private final long arrivalNanos;
  private final int promptTokens;
  private final List<Integer> tokens = new ArrayList<>();
  /** This call's one request, as a benchmark measures each of its requests. */
  private final MetricsRecorder timing = new MetricsRecorder();

  private static final long REQUEST = 0;

  static Behavior<SequenceEvent> create(ActorRef<Out> out, long arrivalNanos, int promptTokens) {
    return Behaviors.setup(ctx -> new GenerateStream(ctx, out, arrivalNanos, promptTokens));
  }

  private GenerateStream(ActorContext<SequenceEvent> context, ActorRef<Out> out, long arrivalNanos, int promptTokens) {
    super(context);
    this.out = out;
    this.arrivalNanos = arrivalNanos;
    this.promptTokens = promptTokens;
    timing.requestReleased(REQUEST, promptTokens, 0, arrivalNanos);
  }

  @Override
  public Receive<SequenceEvent> createReceive() {
    return newReceiveBuilder()
        .onMessage(SequenceEvent.Tokens.class, this::onTokens)
        .onMessage(SequenceEvent.Migrated.class, this::onMigrated)
        .onMessage(SequenceEvent.Finished.class, this::onFinished)
        .onMessage(SequenceEvent.Failed.class, this::onFailed)
        .build();
  }

  private Behavior<SequenceEvent> onTokens(SequenceEvent.Tokens t) {
    TokenEvent.Builder b = TokenEvent.newBuilder().setIndex(tokens.size()).setAgentId(t.agentId())
        .setElapsedMs((t.nanos() - arrivalNanos) / 1e6);
    for (int token : t.tokens()) {
      b.addTokenIds(token);
      tokens.add(token);
    }
    timing.tokensArrived(REQUEST, t.agentId(), t.tokens().length, t.nanos());
    out.tell(new Emit(GenerateEvent.newBuilder().setToken(b).build()));
    return this;
  }

  private Behavior<SequenceEvent> onMigrated(SequenceEvent.Migrated m) {
    timing.requestMigrated(REQUEST, m.fromAgent(), m.toAgent());
    return this;
  }

  private Behavior<SequenceEvent> onFinished(SequenceEvent.Finished f) {
    timing.requestFinished(REQUEST, f.nanos());
    RequestRecord r = timing.requests().get(0);
    GenerateSummary.Builder s = GenerateSummary.newBuilder().setPromptTokens(promptTokens)
        .setOutputTokens(r.outputTokens()).setTtftMs(orZero(r.ttftMs())).setE2EMs(orZero(r.e2eMs()))
        .setTpotMs(orZero(r.tpotMs())).setAgentId(r.agentId() == null ? "" : r.agentId())
        .setMigrations(r.migrations()).addAllOutputTokenIds(tokens).addAllItlMs(r.itlMs());
    out.tell(new Emit(GenerateEvent.newBuilder().setSummary(s).build()));
    out.tell(Complete.INSTANCE);
    return Behaviors.stopped();
  }

  /** NaN (TTFT and E2E without tokens, TPOT with fewer than two) goes out as 0. */
  private static double orZero(double ms) {
    return Double.isNaN(ms) ? 0 : ms;
  }

  private Behavior<SequenceEvent> onFailed(SequenceEvent.Failed f) {
    out.tell(new Fail(ApiStatus.of(f.kind()).withDescription(f.reason())));
    return Behaviors.stopped();
  }
}
