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
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.generation.GenerationEvent;
import io.decodefleet.coordinator.generation.GenerationFields;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.GenerationSource;
import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.generation.TextGeneration;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.node.CoordinatorRole;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.run.RunProgress;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.text.Tokenizer;
import io.decodefleet.coordinator.workload.WorkloadSpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The coordinator's public gRPC API ({@code decodefleet.api.v1.DecodeFleet}). A Generate request
 * becomes the same {@link GenerationRequest} as an HTTP one, checked by the same
 * {@link GenerationFields}, and runs as the same {@link TextGeneration}. Every INVALID_ARGUMENT names
 * its field; capacity and availability come from the Coordinator's placement (RESOURCE_EXHAUSTED,
 * UNAVAILABLE). A client that cancels its stream cancels its sequence.
 */
public final class DecodeFleetService implements DecodeFleet {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final ActorSystem<?> system;
  private final ActorRef<Coordinator.Command> coordinator;
  private final ModelSpec model;
  private final ModelConfig config;
  private final ModelLimits limits;
  private final Tokenizer tokenizer;
  private final int worldSize;
  private final BiFunction<BenchmarkRequest, RunOutcome, String> reportJson;
  private final AtomicLong nextId = new AtomicLong();
  /** Hears every Generate request's tokens and completion (the process's /metrics). */
  private final RequestObserver observer;

  /**
   * @param model the model the fleet serves
   * @param limits what a Generate request is checked against (as the HTTP API checks it)
   * @param tokenizer encodes text prompts, decodes the output text
   * @param worldSize agents it is loaded on
   * @param reportJson renders a finished benchmark as the content of report.json
   */
  public DecodeFleetService(ActorSystem<?> system, ActorRef<Coordinator.Command> coordinator, ModelSpec model,
      ModelLimits limits, Tokenizer tokenizer, int worldSize, BiFunction<BenchmarkRequest, RunOutcome, String> reportJson) {
    this(system, coordinator, model, limits, tokenizer, worldSize, reportJson, RequestObserver.NONE);
  }

  /** @param observer hears every Generate request's tokens and completion (the process's /metrics) */
  public DecodeFleetService(ActorSystem<?> system, ActorRef<Coordinator.Command> coordinator, ModelSpec model,
      ModelLimits limits, Tokenizer tokenizer, int worldSize, BiFunction<BenchmarkRequest, RunOutcome, String> reportJson,
      RequestObserver observer) {
    this.observer = observer;
    this.limits = limits;
    this.tokenizer = tokenizer;
    this.system = system;
    this.coordinator = coordinator;
    this.model = model;
    this.config = ModelConfig.preset(model.model());
    this.worldSize = worldSize;
    this.reportJson = reportJson;
  }

  @Override
  public Source<GenerateEvent, NotUsed> generate(GenerateRequest in) {
    long arrival = System.nanoTime();
    GenerationRequest request;
    try {
      request = generation(in);
    } catch (org.apache.pekko.grpc.GrpcServiceException e) {
      return Source.failed(e);
    }
    long id = nextId.incrementAndGet();
    GenerateEvents events = new GenerateEvents();
    return GenerationSource.of(system, coordinator, request, tokenizer, id, arrival, observer, "generate-" + id,
            answered -> { })
        .map(e -> {
          if (e instanceof GenerationEvent.Failed f) {
            throw new org.apache.pekko.grpc.GrpcServiceException(ApiStatus.of(f.kind()).withDescription(f.reason()));
          }
          return events.next(e);
        });
  }

  /** The request's fields, checked as the HTTP API checks them; INVALID_ARGUMENT names the field. */
  private GenerationRequest generation(GenerateRequest in) {
    boolean hasIds = in.getPromptTokenIdsCount() > 0;
    boolean hasText = !in.getPrompt().isEmpty();
    String promptField = hasIds ? "prompt_token_ids" : hasText ? "prompt" : "prompt_len";
    if ((hasIds ? 1 : 0) + (hasText ? 1 : 0) + (in.getPromptLen() != 0 ? 1 : 0) > 1) {
      throw ApiStatus.invalid(in.getPromptLen() != 0 ? "prompt_len" : "prompt",
          "give one of prompt_token_ids, prompt and prompt_len");
    }
    if (!hasIds && !hasText && in.getPromptLen() <= 0) {
      throw ApiStatus.invalid("prompt_token_ids", "a prompt is required (prompt_token_ids, prompt, or prompt_len >= 1)");
    }
    int[] prompt;
    if (hasIds) {
      prompt = in.getPromptTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    } else if (hasText) {
      prompt = tokenizer.encode(in.getPrompt(), true);
    } else {
      SplittableRandom rng = new SplittableRandom(in.getSeed());
      prompt = new int[in.getPromptLen()];
      for (int i = 0; i < prompt.length; i++) prompt[i] = rng.nextInt(limits.vocabSize());
    }
    io.decodefleet.api.SamplingParams p = in.getSampling();
    GenerationFields fields = new GenerationFields(in.getMaxTokens() == 0 ? null : in.getMaxTokens(),
        p.getTemperature(), p.hasTopP() ? p.getTopP() : null, p.getTopK(), in.getSeed(), p.getStopTokenIdsList(),
        p.getIgnoreEos(), p.getMinTokens(), p.getStopList(), p.hasSkipSpecialTokens() ? p.getSkipSpecialTokens() : null);
    try {
      return fields.toRequest(prompt, limits);
    } catch (InvalidField e) {
      String field = e.field().equals("prompt") ? promptField
          : e.field().equals("max_tokens") ? "max_tokens" : "sampling." + e.field();
      throw ApiStatus.invalid(field, e.getMessage().substring(e.field().length() + 2));
    }
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
          .setInFlight(a.inFlight()));
    }
    return b.build();
  }

  @Override
  public Source<BenchmarkEvent, NotUsed> runBenchmark(BenchmarkRequest in) {
    BenchmarkSpec spec;
    try {
      spec = benchmarkSpec(in);
    } catch (org.apache.pekko.grpc.GrpcServiceException e) {
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
      ActorRef<Object> relay = system.systemActorOf(relay(ref, in), "benchmark-" + nextId.incrementAndGet(),
          Props.empty());
      coordinator.tell(new Coordinator.RunBenchmark(spec, relay.narrow(), relay.narrow()));
      return NotUsed.notUsed();
    }).map(m -> (BenchmarkEvent) m);
  }

  private enum Done { INSTANCE }

  /** Turns a run's progress and outcome into stream elements, then completes (or fails) the stream. */
  private Behavior<Object> relay(ActorRef<Object> out, BenchmarkRequest in) {
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
                .setReportJson(reportJson.apply(in, o))).build());
          }
          out.tell(Done.INSTANCE);
          return Behaviors.stopped();
        })
        .build();
  }

  private BenchmarkSpec benchmarkSpec(BenchmarkRequest in) {
    int ws = in.getWorldSize();
    if (ws < 0 || ws > worldSize) {
      throw ApiStatus.invalid("world_size", "must be in 0.." + worldSize + " (the agents loaded), got " + in.getWorldSize());
    }
    if (in.getNumRequests() < 1) throw ApiStatus.invalid("num_requests", "must be >= 1, got " + in.getNumRequests());
    LengthDistribution prompt = length("prompt_len",
        in.getPromptLen().isEmpty() ? WorkloadSpec.DEFAULT_PROMPT_LEN : in.getPromptLen());
    LengthDistribution output = length("output_len",
        in.getOutputLen().isEmpty() ? WorkloadSpec.DEFAULT_OUTPUT_LEN : in.getOutputLen());
    String placement = in.getPlacement().isEmpty() ? PlacementPolicy.DEFAULT : in.getPlacement();
    try {
      PlacementPolicy.named(placement);
    } catch (IllegalArgumentException e) {
      throw ApiStatus.invalid("placement", e.getMessage());
    }
    if (!(in.getRequestRate() >= 0) || Double.isInfinite(in.getRequestRate())) {
      throw ApiStatus.invalid("request_rate", "must be >= 0 requests/s (0: all at once), got " + in.getRequestRate());
    }
    if (!(in.getBurstiness() >= 0)) throw ApiStatus.invalid("burstiness", "must be > 0, got " + in.getBurstiness());
    if (in.getMaxConcurrency() < 0) {
      throw ApiStatus.invalid("max_concurrency", "must be >= 0 (0: unlimited), got " + in.getMaxConcurrency());
    }
    ArrivalProcess arrivals = in.getRequestRate() == 0 ? new ArrivalProcess.AllAtOnce()
        : new ArrivalProcess.Rate(in.getRequestRate(),
            in.getBurstiness() == 0 ? WorkloadSpec.DEFAULT_BURSTINESS : in.getBurstiness());
    WorkloadSpec workload = new WorkloadSpec(in.getNumRequests(), prompt, output, arrivals, in.getMaxConcurrency());
    List<RequestSpec> requests = workload.requests(config.vocabSize(), config.maxPositionEmbeddings(), in.getSeed());
    return new BenchmarkSpec(ws, model, requests, placement, workload.maxConcurrency(), Duration.ofSeconds(60));
  }

  private static LengthDistribution length(String field, String text) {
    try {
      return LengthDistribution.parse(text);
    } catch (IllegalArgumentException e) {
      throw ApiStatus.invalid(field, e.getMessage());
    }
  }
}
