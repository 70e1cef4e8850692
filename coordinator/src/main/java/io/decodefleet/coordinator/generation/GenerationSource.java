package io.decodefleet.coordinator.generation;

import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.text.Tokenizer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * A generation as a stream, the way both APIs serve one: materializing it starts a {@link
 * TextGeneration}; its events follow and the stream completes after the Done or Failed. A stream
 * that ends before either (the client went away, or cancelled) cancels the generation's sequence.
 */
public final class GenerationSource {
  /** Events a generation may queue ahead of a slow client before its stream fails. */
  private static final int EVENT_BUFFER = 16384;

  private GenerationSource() {}

  /**
   * @param actorName the generation actor's name, unique in the system
   * @param onEnd told once the stream has ended, whether the generation had answered (Done or Failed)
   */
  public static Source<GenerationEvent, NotUsed> of(ActorSystem<?> system, ActorRef<Coordinator.Command> coordinator,
      GenerationRequest request, Tokenizer tokenizer, long requestId, long arrivalNanos, RequestObserver observer,
      String actorName, Consumer<Boolean> onEnd) {
    AtomicReference<ActorRef<TextGeneration.Command>> generation = new AtomicReference<>();
    AtomicBoolean answered = new AtomicBoolean();
    return ActorSource.<GenerationEvent>actorRef(m -> m == GenerationEvent.End.INSTANCE, m -> Optional.empty(),
            EVENT_BUFFER, OverflowStrategy.fail())
        .mapMaterializedValue(out -> {
          generation.set(system.systemActorOf(TextGeneration.create(coordinator, request, tokenizer, requestId,
              arrivalNanos, observer, out), actorName, Props.empty()));
          return NotUsed.notUsed();
        })
        .map(e -> {
          if (e instanceof GenerationEvent.Done || e instanceof GenerationEvent.Failed) answered.set(true);
          return e;
        })
        .watchTermination((nu, termination) -> {
          termination.whenComplete((d, t) -> {
            if (!answered.get() && generation.get() != null) {
              generation.get().tell(TextGeneration.ClientGone.INSTANCE);
            }
            onEnd.accept(answered.get());
          });
          return NotUsed.notUsed();
        });
  }
}
