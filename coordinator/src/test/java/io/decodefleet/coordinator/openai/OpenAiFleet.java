package io.decodefleet.coordinator.openai;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.decodefleet.coordinator.text.ChatTemplate;
import io.decodefleet.coordinator.text.Tokenizer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * A real two-agent CPU cluster serving the {@code tiny} preset, with the OpenAI API bound on an
 * ephemeral loopback port: what the HTTP tests (and the client-mode tests) drive over real sockets.
 */
public final class OpenAiFleet implements AutoCloseable {
  public static final String MODEL = "tiny";
  public static final String API_KEY = "test-key-1234";
  static final ModelSpec SPEC = new ModelSpec(MODEL, 11, 16, 256, 16, 128, 0.0);

  final EmbeddedCluster cluster;
  final ModelLimits limits;
  final Tokenizer tokenizer = new ByteTokenizer();
  private final ServerBinding binding;

  /** @param maxInFlight requests served at once; one more gets 429 */
  OpenAiFleet(int maxInFlight) throws Exception {
    this(maxInFlight, SPEC);
  }

  /**
   * @param maxInFlight requests served at once; one more gets 429
   * @param spec what the two agents load (its seed is the dummy weights' seed)
   */
  public OpenAiFleet(int maxInFlight, ModelSpec spec) throws Exception {
    Duration t = Duration.ofSeconds(60);
    cluster = EmbeddedCluster.start(2, ConfigFactory.empty(), 8L << 20);
    Coordinator.FleetStatus status = AskPattern.<Coordinator.Command, Coordinator.FleetStatus>ask(cluster.coordinator(),
        r -> new Coordinator.LoadFleet(2, spec, t, r), t, cluster.system().scheduler()).toCompletableFuture()
        .get(70, TimeUnit.SECONDS);
    assertTrue(status instanceof Coordinator.FleetReady, status.toString());
    ModelConfig config = ModelConfig.preset(MODEL);
    // As serve checks them: against the loaded fleet (the model's context, its largest KV pool).
    limits = new ModelLimits(MODEL, config.vocabSize(), config.maxPositionEmbeddings(), tokenizer.eosTokenIds(), 16)
        .onFleet(((Coordinator.FleetReady) status).state());
    OpenAiServer server = new OpenAiServer(cluster.system(), cluster.coordinator(), limits, tokenizer,
        new TemplatePrompts(tokenizer, ChatTemplate.builtIn()),
        io.decodefleet.coordinator.security.ApiKey.of(Optional.of(API_KEY)), new InFlightLimit(maxInFlight),
        "test", cluster.metrics());
    binding = Http.get(cluster.system()).newServerAt("127.0.0.1", 0).withSettings(OpenAiServer.settings(cluster.system()))
        .bind(server::handle).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** {@code http://127.0.0.1:PORT}, without the {@code /v1}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  /** The fleet's cluster, for runs on the fleet itself. */
  public EmbeddedCluster cluster() {
    return cluster;
  }

  @Override
  public void close() {
    binding.unbind();
    cluster.close();
  }
}
