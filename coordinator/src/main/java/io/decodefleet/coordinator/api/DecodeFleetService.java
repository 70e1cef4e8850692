package io.decodefleet.coordinator.api;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.AgentState;
import io.decodefleet.api.BenchmarkEvent;
import io.decodefleet.api.BenchmarkProgress;
import io.decodefleet.api.BenchmarkReport;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.ClusterState;
import io.decodefleet.api.ClusterStateRequest;
import io.decodefleet.api.DecodeFleet;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.generation.GenerationEvent;
import io.decodefleet.coordinator.generation.GenerationFields;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.GenerationSource;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.generation.TextGeneration;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.node.CoordinatorRole;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.run.RunProgress;
import io.decodefleet.coordinator.text.Tokenizer;
import io.grpc.Status;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The coordinator's public gRPC API ({@code decodefleet.api.v1.DecodeFleet}). A Generate request
 * becomes the same {@link GenerationRequest} as an HTTP one, checked by the same
 * {@link GenerationFields} (a prompt and output over the {@link LengthLimit} of the loaded fleet is
 * INVALID_ARGUMENT), and runs as the same {@link TextGeneration}. Every INVALID_ARGUMENT names its
 * field ({@link ApiRequests} reads both requests). A Generate call past the {@link InFlightLimit} it
 * shares with the HTTP API is RESOURCE_EXHAUSTED at once; placement and availability come from the
 * Coordinator (RESOURCE_EXHAUSTED, UNAVAILABLE), and a Coordinator that was lost, or none running
 * during a fail-over, is UNAVAILABLE too. A client that cancels its stream cancels its sequence.
 * RunBenchmark runs only where the Coordinator runs (FAILED_PRECONDITION elsewhere).
 */
public final class DecodeFleetService implements DecodeFleet {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  /** Renders a finished benchmark as the content of report.json. */
  @FunctionalInterface
  public interface BenchmarkReports {
    /** @param overlengthSkipped requests left out as over the length limit (on_overlength "skip") */
    String render(BenchmarkRequest request, RunOutcome outcome, int overlengthSkipped);
  }

  private final ActorSystem<?> system;
  private final ActorRef<Coordinator.Command> coordinator;
  private final ModelSpec model;
  private final ModelConfig config;
  private final ModelLimits limits;
  private final Tokenizer tokenizer;
  private final int worldSize;
  private final BenchmarkReports reportJson;
  private final InFlightLimit inFlight;
  private final AtomicLong nextId = new AtomicLong();
  /** Hears every Generate request's tokens and completion (the process's /metrics). */
  private final RequestObserver observer;

  /**
   * @param model the model the fleet serves
   * @param limits what a Generate request and a benchmark's workload are checked against (as the HTTP
   *     API checks them): the loaded fleet's, with its largest KV pool ({@link ModelLimits#onFleet})
   * @param tokenizer encodes text prompts, decodes the output text
   * @param worldSize agents it is loaded on
   * @param inFlight the bound on Generate calls served at once, shared with the HTTP API
   * @param reportJson renders a finished benchmark as the content of report.json
   * @param observer hears every Generate request's tokens and completion (the process's /metrics)
   */
  public DecodeFleetService(ActorSystem<?> system, ActorRef<Coordinator.Command> coordinator, ModelSpec model,
      ModelLimits limits, Tokenizer tokenizer, int worldSize, InFlightLimit inFlight, BenchmarkReports reportJson,
      RequestObserver observer) {
    this.inFlight = inFlight;
    this.observer = observer;
    this.limits = limits;
    this.tokenizer = tokenizer;
    this.system = system;
    this.coordinator = coordinator;
    this.model = model;
    this.config = ModelConfig.resolve(model.model());
    this.worldSize = worldSize;
    this.reportJson = reportJson;
  }

  @Override
  public Source<GenerateEvent, NotUsed> generate(GenerateRequest in) {
    long arrival = System.nanoTime();
    GenerationRequest request;
    try {
      request = ApiRequests.generation(in, limits, tokenizer);
    } catch (GrpcServiceException e) {
      return Source.failed(e);
    }
    // A slot is taken when gRPC runs the response stream and given back when it ends, so a call
    // that is never answered holds none.
    return Source.lazySource(() -> {
      if (!inFlight.tryAcquire()) {
        return Source.<GenerateEvent>failed(new GrpcServiceException(Status.RESOURCE_EXHAUSTED.withDescription(
            inFlight.refusal())));
      }
      long id = nextId.incrementAndGet();
      GenerateEvents events = new GenerateEvents();
      return GenerationSource.of(system, coordinator, request, tokenizer, id, arrival, observer, "generate-" + id,
              answered -> inFlight.release())
          .map(e -> {
            if (e instanceof GenerationEvent.Failed f) {
              throw new GrpcServiceException(ApiStatus.of(f.kind()).withDescription(f.reason()));
            }
            return events.next(e);
          });
    }).mapMaterializedValue(m -> NotUsed.notUsed());
  }

  @Override
  public CompletionStage<ClusterState> getClusterState(ClusterStateRequest in) {
    return AskPattern.<Coordinator.Command, ClusterSnapshot>ask(coordinator, Coordinator.GetClusterState::new,
        ASK_TIMEOUT, system.scheduler()).thenApply(DecodeFleetService::toProto);
  }

  static ClusterState toProto(ClusterSnapshot s) {
    ClusterState.Builder b = ClusterState.newBuilder().setModel(s.model() == null ? "" : s.model())
        .setWorldSize(s.worldSize()).setAgentsLost(s.agentsLost()).setMigrations(s.migrations());
    for (AgentSnapshot a : s.agents()) {
      b.addAgents(AgentState.newBuilder().setAgentId(a.agentId()).setNodeAddress(a.nodeAddress()).setDevice(a.device())
          .setBackend(a.backend()).setLoaded(a.loaded() && a.alive()).setKvBlocks(a.kvBlocks())
          .setFreeKvBlocks(a.freeKvBlocks()).setBlockSize(a.blockSize()).setRunning(a.running()).setWaiting(a.waiting())
          .setInFlight(a.inFlight()).setStatus(AgentState.Status.valueOf(a.status().name())));
    }
    return b.build();
  }

  @Override
  public Source<BenchmarkEvent, NotUsed> runBenchmark(BenchmarkRequest in) {
    ApiRequests.Benchmark benchmark;
    try {
      benchmark = ApiRequests.benchmark(in, model, config, limits, worldSize);
    } catch (GrpcServiceException e) {
      return Source.failed(e);
    }
    if (!CoordinatorRole.hostedHere(system)) {
      // A run's workload, progress and outcome do not cross between nodes: it runs beside the Coordinator.
      return Source.failed(ApiStatus.elsewhere("RunBenchmark runs on the coordinator node that hosts the "
          + "Coordinator (" + CoordinatorRole.host(system).map(m -> m.address().toString()).orElse("none yet")
          + "); this node serves Generate and GetClusterState"));
    }
    Source<Object, ActorRef<Object>> out = ActorSource.actorRef(m -> m instanceof Done, m -> Optional.empty(), 1024,
        OverflowStrategy.dropHead());
    return out.mapMaterializedValue(ref -> {
      ActorRef<Object> relay = system.systemActorOf(relay(ref, in, benchmark.overlengthSkipped()),
          "benchmark-" + nextId.incrementAndGet(), Props.empty());
      coordinator.tell(new Coordinator.RunBenchmark(benchmark.spec(), relay.narrow(), relay.narrow()));
      return NotUsed.notUsed();
    }).map(m -> (BenchmarkEvent) m);
  }

  private enum Done { INSTANCE }

  /** Turns a run's progress and outcome into stream elements, then completes (or fails) the stream. */
  private Behavior<Object> relay(ActorRef<Object> out, BenchmarkRequest in, int overlengthSkipped) {
    return Behaviors.receive(Object.class)
        .onMessage(RunProgress.class, p -> {
          out.tell(BenchmarkEvent.newBuilder().setProgress(BenchmarkProgress.newBuilder().setCompleted(p.completed())
              .setFailed(p.failed()).setTotal(p.total()).setOutputTokens(p.outputTokens())
              .setElapsedS(p.elapsedNanos() / 1e9)).build());
          return Behaviors.same();
        })
        .onMessage(RunOutcome.class, o -> {
          if (o.error() != null) {
            out.tell(BenchmarkEvent.newBuilder().setReport(BenchmarkReport.newBuilder().setSucceeded(false)
                .setReportJson("{\"error\": " + com.fasterxml.jackson.databind.node.TextNode.valueOf(o.error()) + "}"))
                .build());
          } else {
            out.tell(BenchmarkEvent.newBuilder().setReport(BenchmarkReport.newBuilder().setSucceeded(o.succeeded())
                .setReportJson(reportJson.render(in, o, overlengthSkipped))).build());
          }
          out.tell(Done.INSTANCE);
          return Behaviors.stopped();
        })
        .build();
  }
}
