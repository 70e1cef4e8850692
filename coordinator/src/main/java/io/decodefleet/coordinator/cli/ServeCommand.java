package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.PortBinding;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.DecodeFleetHandlerFactory;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.ServedFleet;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.api.DecodeFleetService;
import io.decodefleet.coordinator.api.GrpcRequestLimits;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.node.ClusterOptions;
import io.decodefleet.coordinator.node.CoordinatorNode;
import io.decodefleet.coordinator.node.HardwareDescription;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import io.decodefleet.coordinator.openai.OpenAiServer;
import io.decodefleet.coordinator.security.ApiAccess;
import io.decodefleet.coordinator.report.RuntimeVersions;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import sun.misc.Signal;

/**
 * {@code coordinator serve}: founds (or joins) a cluster, waits for {@code --world-size} agents from
 * gpu-agent daemons, loads the model on them and serves the gRPC API and the OpenAI-compatible HTTP
 * API until SIGTERM. Started again with {@code --seed-nodes} of the first, it joins the same cluster
 * as a second coordinator node: its APIs reach the one Coordinator singleton, and the singleton
 * moves to it (adopting the loaded fleet) when the node that hosts it is lost or leaves.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Serve the DecodeFleet gRPC API (decodefleet.api.v1.DecodeFleet) on a cluster of gpu-agent daemons.")
final class ServeCommand implements Callable<Integer> {

  @Option(names = "--grpc-port", defaultValue = "${env:DECODEFLEET_GRPC_PORT:-50051}",
      description = "gRPC port (HTTP/2; TLS with --tls-cert; env DECODEFLEET_GRPC_PORT; default ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--grpc-bind", defaultValue = "${env:DECODEFLEET_GRPC_BIND:-127.0.0.1}",
      description = "Address the gRPC server binds (default ${DEFAULT-VALUE}).")
  String grpcBind;

  @Option(names = "--http-port", defaultValue = "${env:DECODEFLEET_HTTP_PORT:-8000}",
      description = "Port of the OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, /v1/models, "
          + "/health, /version, /metrics); -1: none (env DECODEFLEET_HTTP_PORT; default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--http-bind", defaultValue = "${env:DECODEFLEET_HTTP_BIND:-127.0.0.1}",
      description = "Address the HTTP API binds (default ${DEFAULT-VALUE}).")
  String httpBind;

  @Mixin
  ApiAccessOptions access = new ApiAccessOptions();

  @ParentCommand
  CoordinatorCli parent;

  @Option(names = "--tokenizer", description = "A Hugging Face tokenizer.json (its tokenizer_config.json beside it "
      + "gives BOS, EOS and the chat template); default: the --model directory's tokenizer.json, else the built-in "
      + "byte-level tokenizer.")
  java.nio.file.Path tokenizer;

  @Option(names = "--chat-template", description = "A Jinja chat template file, in place of the tokenizer's.")
  java.nio.file.Path chatTemplate;

  @Option(names = "--served-model-name", description = "The model name clients give (default: the --model preset, "
      + "or the model directory's absolute path).")
  String servedModelName;

  @Option(names = "--default-max-tokens", description = "Max tokens of a request that gives none, capped by the "
      + "context the prompt leaves (default: ${DEFAULT-VALUE}).")
  int defaultMaxTokens = 256;

  @Option(names = "--max-concurrent-requests", description = "Requests served at once by the gRPC and the HTTP API "
      + "together (Generate, completions, chat completions); one more is refused at once, RESOURCE_EXHAUSTED or 429, "
      + "never queued (default: ${DEFAULT-VALUE}).")
  int maxConcurrentRequests = 4096;

  @Option(names = "--world-size", required = true, description = "Agents to wait for and load the model on.")
  int worldSize;

  @Option(names = "--seed", description = "Seed of the dummy weights (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Mixin
  EngineOptions engine = new EngineOptions();

  @Mixin
  ClusterOptions cluster = new ClusterOptions();

  @Override
  public Integer call() throws Exception {
    ModelSpec model;
    ServedText text;
    ApiAccess api;
    try {
      if (worldSize < 1) throw new UsageError("--world-size must be >= 1, got " + worldSize);
      if (grpcPort < 0 || grpcPort > 65535) throw new UsageError("--grpc-port must be in 0..65535, got " + grpcPort);
      if (httpPort < -1 || httpPort > 65535) {
        throw new UsageError("--http-port must be in 0..65535 (or -1: no HTTP API), got " + httpPort);
      }
      if (defaultMaxTokens < 1) throw new UsageError("--default-max-tokens must be >= 1, got " + defaultMaxTokens);
      if (maxConcurrentRequests < 1) {
        throw new UsageError("--max-concurrent-requests must be >= 1, got " + maxConcurrentRequests);
      }
      api = access.resolve();
      try {
        cluster.validate(parent == null ? System.getenv() : parent.environment);
      } catch (IllegalArgumentException e) {
        throw new UsageError(e.getMessage());
      }
      model = engine.spec(seed, 0.0);
      text = ServedText.load(model, tokenizer, chatTemplate, servedModelName, defaultMaxTokens);
    } catch (UsageError e) {
      System.err.println("coordinator serve: " + e.getMessage());
      return 2;
    }
    Duration timeout = Duration.ofSeconds(cluster.agentTimeoutSeconds);
    // As vLLM, metrics name the model as clients do: the served name for the preset.
    String served = text.limits().model();
    CoordinatorMetrics metrics = new CoordinatorMetrics(preset -> preset.equals(model.model()) ? served : preset);
    ServedFleet fleet = new ServedFleet(worldSize, model, ParallelLayout.DATA_PARALLEL, timeout);
    try (CoordinatorNode node = CoordinatorNode.start(cluster.bind, cluster.clusterPort, cluster.seedNodes,
        cluster.managementPort, cluster.kubernetes, metrics, cluster.tls, java.util.Optional.of(fleet))) {
      // Bound before the wait for agents: a taken port is said at once, not after --agent-timeout.
      ServerBinding metricsOnly = cluster.metricsPort < 0 ? null : metrics.serve(node.system(), cluster.bind,
          cluster.metricsPort);
      System.out.println("coordinator: " + text.describe());
      if (metricsOnly != null) {
        System.out.println("coordinator: metrics on http://" + cluster.bind + ":" + metricsOnly.localAddress().getPort()
            + "/metrics");
      }
      System.out.println("coordinator: cluster node at " + node.clusterAddress() + " (" + cluster.describe() + ", "
          + cluster.tls.describe() + "); waiting for " + worldSize + " agents"
          + (cluster.embedded() ? " (give gpu-agent --seed-nodes " + node.clusterAddress() + ")" : ""));
      Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(node.coordinator(),
          fleet::load, timeout.plusSeconds(10),
          node.system().scheduler()).toCompletableFuture().get(timeout.toSeconds() + 20, TimeUnit.SECONDS);
      if (status instanceof Coordinator.FleetFailed failed) {
        System.err.println("coordinator serve: " + failed.reason());
        return 1;
      }
      ClusterSnapshot state = ((Coordinator.FleetReady) status).state();
      // Requests are checked against the loaded fleet: the model's context and its largest KV pool.
      ModelLimits limits = text.limits().onFleet(state);
      InFlightLimit inFlight = new InFlightLimit(maxConcurrentRequests);
      DecodeFleetService service = new DecodeFleetService(node.system(), node.coordinator(), model, limits,
          text.tokenizer(), worldSize, inFlight, (request, outcome, skipped) -> reportJson(request, outcome, skipped,
          state), metrics.requests(model.model()));
      ServerBinding http = null;
      // The port's size limits come first: a request over them is refused before its key is checked.
      ServerBinding binding = PortBinding.bound("the gRPC API", grpcBind, grpcPort, api.serverAt(Http.get(node.system())
          .newServerAt(grpcBind, grpcPort)).withSettings(GrpcRequestLimits.settings(node.system()))
          .bind(GrpcRequestLimits.around(api.key().guardGrpc(DecodeFleetHandlerFactory.create(service, node.system()),
              node.system()), node.system())));
      System.out.println("coordinator: model " + model.model() + " loaded on " + worldSize
          + " agents; serving decodefleet.api.v1.DecodeFleet on " + grpcBind + ":" + binding.localAddress().getPort()
          + " (" + api.describe() + ")");
      api.warnIfExposed("the gRPC API", grpcBind, binding.localAddress().getPort());
      if (httpPort >= 0) {
        OpenAiServer server = new OpenAiServer(node.system(), node.coordinator(), limits, text.tokenizer(),
            text.prompts(), api.key(), inFlight,
            RuntimeVersions.current().get("decodefleet"), metrics);
        http = PortBinding.bound("the OpenAI API", httpBind, httpPort, api.serverAt(Http.get(node.system())
            .newServerAt(httpBind, httpPort)).withSettings(OpenAiServer.settings(node.system())).bind(server::handle));
        System.out.println("coordinator: serving the OpenAI API (model '" + text.limits().model() + "') on "
            + api.scheme() + "://" + httpBind + ":" + http.localAddress().getPort() + "/v1 (" + api.describe()
            + "); metrics on /metrics");
        api.warnIfExposed("the OpenAI API", httpBind, http.localAddress().getPort());
      }
      System.out.flush();
      CountDownLatch stop = new CountDownLatch(1);
      Signal.handle(new Signal("TERM"), sig -> stop.countDown());
      Signal.handle(new Signal("INT"), sig -> stop.countDown());
      // A node the split brain resolver downed (its side of a partition lost) has stopped serving: it exits.
      node.system().getWhenTerminated().thenRun(stop::countDown);
      stop.await();
      if (node.system().getWhenTerminated().toCompletableFuture().isDone()) {
        System.err.println("coordinator serve: this node was downed and left the cluster (its side of a partition "
            + "lost); exiting");
        return 1;
      }
      if (http != null) http.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      if (metricsOnly != null) CoordinatorMetrics.stopServing(metricsOnly);
      binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (PortBinding.Unavailable e) {
      // A port that cannot be bound (the cluster, management, gRPC, HTTP or metrics port): the node stops with it.
      System.err.println("coordinator serve: " + e.getMessage());
      return 2;
    }
    return 0;
  }

  private String reportJson(BenchmarkRequest request, RunOutcome outcome, int overlengthSkipped,
      ClusterSnapshot state) {
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("request", request.toString().replace('\n', ' ').trim());
    settings.put("model", engine.model);
    settings.put("overlength_skipped", overlengthSkipped);
    String backend = state.agents().isEmpty() ? "cpu" : state.agents().get(0).backend();
    int ws = outcome.agents().size();
    SweepReport report = new SweepReport("RunBenchmark (gRPC)", settings, RuntimeVersions.current(),
        HardwareDescription.describe(), backend, engine.model, java.time.OffsetDateTime.now().toString(), SloSpec.NONE,
        List.of(SweepPoint.of(Math.max(ws, 1), outcome.result(), outcome.requests(), outcome.engine(),
            outcome.verification(), outcome.agents())));
    return ReportJson.toJson(report).toPrettyString();
  }
}
