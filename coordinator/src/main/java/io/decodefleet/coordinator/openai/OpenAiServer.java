package io.decodefleet.coordinator.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.observability.RequestLogContext;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.InFlightLimit;
import io.decodefleet.coordinator.admission.RequestSizeLimits;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.generation.GenerationEvent;
import io.decodefleet.coordinator.generation.GenerationSource;
import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.metrics.RequestObserver;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import io.decodefleet.coordinator.security.ApiKey;
import io.decodefleet.coordinator.text.Tokenizer;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI-compatible HTTP API: {@code POST /v1/completions} and {@code /v1/chat/completions}
 * (whole JSON, or Server-Sent Events ending with {@code data: [DONE]}), {@code GET /v1/models},
 * {@code /health}, {@code /version}, and the process's Prometheus metrics on {@code GET /metrics}
 * (no API key, as vLLM serves them). Errors come in OpenAI's shape with 400 (a field that cannot be
 * served, named as {@code param}; a prompt and max tokens over the fleet's {@link
 * io.decodefleet.coordinator.admission.LengthLimit} among them), 401 (a missing or wrong API key on
 * {@code /v1}), 404 (an unknown path or model), 413 (a body over the limit), 429 (too many requests
 * in flight: the {@link InFlightLimit} it shares with the gRPC API), 431 (headers over the {@link
 * RequestSizeLimits}), 503 (no agent to serve, or no coordinator: one was lost and another takes
 * over; retry). A stream that had begun when its generation failed ends with an {@code error} event
 * of the same body, then {@code data: [DONE]}. A client that disconnects mid-stream cancels its
 * sequence on the fleet.
 */
public final class OpenAiServer {
  /** Largest request body accepted. */
  public static final long MAX_BODY_BYTES = RequestSizeLimits.MAX_BODY_BYTES;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OpenAiServer.class);

  private final ActorSystem<?> system;
  private final ActorRef<Coordinator.Command> coordinator;
  private final ModelLimits limits;
  private final Tokenizer tokenizer;
  private final OpenAiRequest.Prompts prompts;
  private final ApiKey apiKey;
  private final InFlightLimit inFlight;
  private final String version;
  private final CoordinatorMetrics metrics;
  /** Hears every request's tokens and completion: {@code metrics} for the served model. */
  private final RequestObserver observer;
  private final long created = System.currentTimeMillis() / 1000;
  private final AtomicLong nextId = new AtomicLong();

  /**
   * @param prompts turns text and chat messages into token ids (the tokenizer, the chat template)
   * @param apiKey when required, every {@code /v1} request needs {@code Authorization: Bearer <key>}
   * @param limits what a request is checked against: the loaded fleet's ({@link ModelLimits#onFleet})
   * @param inFlight the bound on requests served at once, shared with the gRPC API; one more gets 429
   * @param metrics this process's metrics: fed by every request (labelled with the served model name),
   *     served on {@code /metrics}
   */
  public OpenAiServer(ActorSystem<?> system, ActorRef<Coordinator.Command> coordinator, ModelLimits limits,
      Tokenizer tokenizer, OpenAiRequest.Prompts prompts, ApiKey apiKey, InFlightLimit inFlight, String version,
      CoordinatorMetrics metrics) {
    this.metrics = metrics;
    this.observer = metrics.requests(limits.model());
    this.system = system;
    this.coordinator = coordinator;
    this.limits = limits;
    this.tokenizer = tokenizer;
    this.prompts = prompts;
    this.apiKey = apiKey;
    this.inFlight = inFlight;
    this.version = version;
  }

  /**
   * Connections the listening socket queues before they are accepted (the kernel caps it at
   * net.core.somaxconn). Pekko's default of 100 overflowed under a benchmark client opening 512 or
   * 1024 connections at once: the kernel dropped some handshakes, and those requests ended with no
   * answer at all on the client ("header parser received no bytes").
   */
  static final int LISTEN_BACKLOG = 4096;

  /**
   * The HTTP server's settings for this API: no request timeout (a whole, non-streamed answer of
   * many tokens takes as long as it takes), an idle timeout far above any gap between tokens, a
   * listen backlog of {@link #LISTEN_BACKLOG}, the parser's header backstop of {@link
   * RequestSizeLimits}, and its refusals in OpenAI's error shape.
   */
  public static org.apache.pekko.http.javadsl.settings.ServerSettings settings(ActorSystem<?> system) {
    return org.apache.pekko.http.javadsl.settings.ServerSettings.create(com.typesafe.config.ConfigFactory.parseString(
        "pekko.http.server.request-timeout = infinite\npekko.http.server.idle-timeout = 10 min\n"
            + "pekko.http.server.backlog = " + LISTEN_BACKLOG + "\n"
            + "pekko.http.server.parsing.error-handler = \"" + OpenAiParsingErrors.class.getName() + "\"")
        .withFallback(RequestSizeLimits.parserSettings()).withFallback(system.settings().config()));
  }

  /** Answers one request (the handler the HTTP server binds). */
  public CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    boolean post = request.method().equals(HttpMethods.POST);
    boolean get = request.method().equals(HttpMethods.GET);
    boolean generation = post && (path.equals("/v1/completions") || path.equals("/v1/chat/completions"));
    String headers = RequestSizeLimits.headersExcess(request.getHeaders());
    if (!generation || headers != null) request.discardEntityBytes(system);
    if (headers != null) return done(error(431, "headers: " + headers, "invalid_request_error", "headers", null));
    if (path.equals("/health")) return get ? done(HttpResponse.create()) : notAllowed(request);
    if (path.equals("/metrics")) return get ? done(metrics.endpoint().respond(request)) : notAllowed(request);
    if (path.equals("/version")) {
      return get ? done(json(200, JSON.createObjectNode().put("version", version))) : notAllowed(request);
    }
    if (!path.startsWith("/v1/")) return done(error(404, "Not Found: " + path, "invalid_request_error", null, null));
    if (!apiKey.admits(request)) {
      return done(error(401, "Incorrect or missing API key: send Authorization: Bearer <key>",
          "invalid_request_error", null, "invalid_api_key"));
    }
    switch (path) {
      case "/v1/models":
        return get ? done(json(200, OpenAiJson.models(limits.model(), created, (int) limits.length().maxTokens())))
            : notAllowed(request);
      case "/v1/completions":
        return post ? generate(request, false) : notAllowed(request);
      case "/v1/chat/completions":
        return post ? generate(request, true) : notAllowed(request);
      default:
        return done(error(404, "Not Found: " + path, "invalid_request_error", null, null));
    }
  }

  private CompletionStage<HttpResponse> generate(HttpRequest request, boolean chat) {
    Materializer mat = Materializer.matFromSystem(system);
    return request.entity().withSizeLimit(MAX_BODY_BYTES).toStrict(30_000, mat).<HttpResponse>thenCompose(strict -> {
      OpenAiRequest r;
      try {
        r = OpenAiRequest.read(strict.getData().toArray(), chat, prompts, limits);
      } catch (InvalidField e) {
        return done(error(400, e.getMessage(), "invalid_request_error", e.field(), null));
      }
      if (!r.model().equals(limits.model())) {
        return done(error(404, "The model '" + r.model() + "' does not exist; this server serves '" + limits.model()
            + "'", "invalid_request_error", "model", "model_not_found"));
      }
      if (!inFlight.tryAcquire()) {
        return done(error(429, inFlight.refusal(), "rate_limit_error", null, "rate_limit_exceeded"));
      }
      return respond(r, start(r), mat);
    }).exceptionally(e -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
        return error(413, "body: larger than " + MAX_BODY_BYTES + " bytes", "invalid_request_error", "body", null);
      }
      return error(500, cause.getClass().getSimpleName() + ": " + cause.getMessage(), "server_error", null, null);
    });
  }

  /** Starts the generation; its events as a stream that, when cancelled early, cancels the sequence. */
  private Source<GenerationEvent, NotUsed> start(OpenAiRequest r) {
    long id = nextId.incrementAndGet();
    long arrival = System.nanoTime();
    debug(id, "request {}: {} of {} prompt tokens, max_tokens {}, {}", id, r.chat() ? "chat completion"
        : "completion", r.generation().promptTokens().length, r.generation().maxTokens(),
        r.stream() ? "streamed" : "whole");
    return GenerationSource.of(system, coordinator, r.generation(), tokenizer, id, arrival, observer, "openai-" + id,
        answered -> {
          inFlight.release();
          debug(id, "request {} answered{}", id, answered ? "" : ": the client went away first");
        });
  }

  /** A debug line about request {@code id}, with its id in the MDC (on whichever thread writes it). */
  private static void debug(long id, String format, Object... args) {
    if (!LOG.isDebugEnabled()) return;
    try (RequestLogContext ignored = RequestLogContext.of(id)) {
      LOG.debug(format, args);
    }
  }

  private CompletionStage<HttpResponse> respond(OpenAiRequest r, Source<GenerationEvent, NotUsed> events,
      Materializer mat) {
    String id = (r.chat() ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    long now = System.currentTimeMillis() / 1000;
    if (!r.stream()) {
      return events.runWith(Sink.seq(), mat).thenApply(all -> whole(id, r, now, all));
    }
    // The first event decides the status: a sequence the fleet refuses is an error, not a stream.
    return events.prefixAndTail(1).runWith(Sink.head(), mat).thenApply(firstAndRest -> {
      GenerationEvent first = firstAndRest.first().get(0);
      if (first instanceof GenerationEvent.Failed f) {
        firstAndRest.second().runWith(Sink.ignore(), mat);
        return failure(f);
      }
      Source<ByteString, NotUsed> body = Source.single(first).concat(firstAndRest.second())
          .statefulMapConcat(() -> new SseChunks(id, r, now)::next)
          .prepend(r.chat() ? Source.single(SseChunks.data(OpenAiJson.chunk(id, r, now, "", true, null, null)))
              : Source.empty());
      return HttpResponse.create().addHeader(RawHeader.create("Cache-Control", "no-cache"))
          .withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), body));
    });
  }

  private static HttpResponse whole(String id, OpenAiRequest r, long now, List<GenerationEvent> all) {
    StringBuilder text = new StringBuilder();
    int[] ids = new int[0];
    for (GenerationEvent e : all) {
      if (e instanceof GenerationEvent.Failed f) return failure(f);
      if (e instanceof GenerationEvent.Delta d) {
        text.append(d.text());
        int[] grown = java.util.Arrays.copyOf(ids, ids.length + d.tokenIds().length);
        System.arraycopy(d.tokenIds(), 0, grown, ids.length, d.tokenIds().length);
        ids = grown;
      }
      if (e instanceof GenerationEvent.Done d) return json(200, OpenAiJson.completion(id, r, now, text.toString(), ids, d));
    }
    return error(500, "the generation ended without a result", "server_error", null, null);
  }

  static HttpResponse failure(GenerationEvent.Failed f) {
    return json(failureStatus(f), failureBody(f));
  }

  /**
   * The HTTP status of a generation that failed: 400 (its fields), 429 (every agent at its bound of
   * sequences: retry), 503 (no agent or coordinator: retry), 500.
   */
  static int failureStatus(GenerationEvent.Failed f) {
    return switch (f.kind()) {
      case INVALID, CAPACITY -> 400;
      case BUSY -> 429;
      case UNAVAILABLE -> 503;
      case AGENT -> 500;
    };
  }

  /**
   * The error body of a generation that failed: the response's, or the {@code error} event of a
   * stream that had begun (type {@code service_unavailable} there is what a 503 would have said).
   */
  static ObjectNode failureBody(GenerationEvent.Failed f) {
    if (f.kind() == FailureKind.INVALID || f.kind() == FailureKind.CAPACITY) {
      String param = f.reason().contains(":") && f.kind() == FailureKind.INVALID
          ? f.reason().substring(0, f.reason().indexOf(':')) : "max_tokens";
      return OpenAiJson.error(f.reason(), "invalid_request_error", param, null);
    }
    if (f.kind() == FailureKind.UNAVAILABLE) return OpenAiJson.error(f.reason(), "service_unavailable", null, null);
    if (f.kind() == FailureKind.BUSY) return OpenAiJson.error(f.reason(), "rate_limit_error", null, "rate_limit_exceeded");
    return OpenAiJson.error(f.reason(), "server_error", null, null);
  }

  private CompletionStage<HttpResponse> notAllowed(HttpRequest request) {
    return done(error(405, "Method Not Allowed: " + request.method().value() + " " + request.getUri().path(),
        "invalid_request_error", null, null));
  }

  static HttpResponse error(int status, String message, String type, String param, String code) {
    return json(status, OpenAiJson.error(message, type, param, code));
  }

  static HttpResponse json(int status, ObjectNode body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        body.toString()));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
