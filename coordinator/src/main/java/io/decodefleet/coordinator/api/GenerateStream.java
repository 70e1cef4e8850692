package io.decodefleet.coordinator.api;

import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.api.TokenEvent;
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
 * events and the final summary (timings on the coordinator's clock, from the call's arrival).
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
  private final List<Long> tokenNanos = new ArrayList<>();
  private final List<Integer> tokens = new ArrayList<>();
  private String lastAgent = "";
  private int migrations;

  static Behavior<SequenceEvent> create(ActorRef<Out> out, long arrivalNanos, int promptTokens) {
    return Behaviors.setup(ctx -> new GenerateStream(ctx, out, arrivalNanos, promptTokens));
  }

  private GenerateStream(ActorContext<SequenceEvent> context, ActorRef<Out> out, long arrivalNanos, int promptTokens) {
    super(context);
    this.out = out;
    this.arrivalNanos = arrivalNanos;
    this.promptTokens = promptTokens;
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
      tokenNanos.add(t.nanos());
    }
    lastAgent = t.agentId();
    out.tell(new Emit(GenerateEvent.newBuilder().setToken(b).build()));
    return this;
  }

  private Behavior<SequenceEvent> onMigrated(SequenceEvent.Migrated m) {
    migrations++;
    return this;
  }

  private Behavior<SequenceEvent> onFinished(SequenceEvent.Finished f) {
    int n = tokens.size();
    double ttft = n == 0 ? 0 : (tokenNanos.get(0) - arrivalNanos) / 1e6;
    double e2e = n == 0 ? 0 : (tokenNanos.get(n - 1) - arrivalNanos) / 1e6;
    GenerateSummary.Builder s = GenerateSummary.newBuilder().setPromptTokens(promptTokens).setOutputTokens(n)
        .setTtftMs(ttft).setE2EMs(e2e).setTpotMs(n > 1 ? (e2e - ttft) / (n - 1) : 0).setAgentId(lastAgent)
        .setMigrations(migrations).addAllOutputTokenIds(tokens);
    for (int i = 1; i < n; i++) s.addItlMs((tokenNanos.get(i) - tokenNanos.get(i - 1)) / 1e6);
    out.tell(new Emit(GenerateEvent.newBuilder().setSummary(s).build()));
    out.tell(Complete.INSTANCE);
    return Behaviors.stopped();
  }

  private Behavior<SequenceEvent> onFailed(SequenceEvent.Failed f) {
    out.tell(new Fail(ApiStatus.of(f.kind()).withDescription(f.reason())));
    return Behaviors.stopped();
  }
}
