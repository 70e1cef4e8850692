package io.decodefleet.coordinator.observability;

import io.decodefleet.agent.PortBinding;
import io.decodefleet.agent.observability.EngineMetrics;
import io.decodefleet.agent.observability.MetricsEndpoint;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The coordinator process's metrics, one object per process, handed to whatever feeds or serves them:
 * vLLM's request metrics (fed by the {@code MetricsRecorder} of each benchmark run and each API
 * request, through {@link #requests}), the engine metrics of every agent of the fleet (from their
 * reports, {@link #reported}), the fleet's counts ({@link #counted}), and JVM and process metrics.
 * {@link #endpoint()} serves them as {@code GET /metrics}. Thread-safe.
 */
public final class CoordinatorMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final UnaryOperator<String> modelLabel;
  private final EngineMetrics engine = new EngineMetrics(registry);
  private final RequestMetrics requests = new RequestMetrics(registry);
  private final FleetMetrics fleet = new FleetMetrics(registry, engine);
  private final MetricsEndpoint endpoint = new MetricsEndpoint(registry);

  /** Metrics labelled with the model presets' own names. */
  public CoordinatorMetrics() {
    this(UnaryOperator.identity());
  }

  /**
   * @param modelLabel the {@code model_name} of a model preset (e.g. the name {@code serve} gives it to
   *     API clients, as vLLM labels with its served model name)
   */
  public CoordinatorMetrics(UnaryOperator<String> modelLabel) {
    this.modelLabel = modelLabel;
  }

  /** Hears the requests of one benchmark run or one API request on {@code model} (a preset). */
  public RequestObserver requests(String model) {
    return requests.observer(modelLabel.apply(model));
  }

  /** A report of an agent of the fleet, which serves {@code model} (empty while none is loaded). */
  public void reported(String model, AgentReport report) {
    engine.reported(modelLabel.apply(model), report);
  }

  /** The fleet's counts, after anything that may have changed them. */
  public void counted(FleetCounts counts) {
    fleet.counted(counts, modelLabel.apply(counts.model()));
  }

  public MetricsEndpoint endpoint() {
    return endpoint;
  }

  /**
   * Serves {@code GET /metrics} on its own port (a benchmark run's {@code --metrics-port}, or
   * {@code serve}'s without the HTTP API); port 0: any free one.
   *
   * @throws PortBinding.Unavailable with one line when the port cannot be bound
   */
  public ServerBinding serve(ActorSystem<?> system, String host, int port) {
    return PortBinding.bound("/metrics (--metrics-port)", host, port, Http.get(system).newServerAt(host, port)
        .bindSync(request -> {
          request.discardEntityBytes(system);
          boolean metrics = request.getUri().path().equals("/metrics");
          if (metrics && request.method().equals(HttpMethods.GET)) return endpoint.respond(request);
          return HttpResponse.create().withStatus(metrics ? 405 : 404);
        }));
  }

  /** Stops serving {@code binding}, waiting up to a few seconds. */
  public static void stopServing(ServerBinding binding) throws Exception {
    binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
