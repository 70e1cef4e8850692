package io.decodefleet.coordinator.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible server seen from its client: one streamed {@code POST {endpoint}/completions}
 * per benchmark request, with the JDK's HTTP client over HTTP/1.1 (one connection per request in
 * flight, as {@code vllm bench serve}'s aiohttp client has), the body read line by line as it arrives.
 *
 * <p>Each request asks for exactly the workload's tokens: the prompt as token ids, {@code max_tokens}
 * the output length, {@code ignore_eos} so that no request stops early, greedy ({@code temperature}
 * 0) unless a temperature is given (then drawn, as {@code vllm bench serve --temperature}), streamed with {@code stream_options.include_usage}, and vLLM's {@code return_token_ids}
 * (servers that ignore the field still work; the token count then comes from the text chunks and
 * the usage).
 *
 * <p>A request that has not ended within the request timeout (from its send to {@code [DONE]}) fails
 * with that reason and its connection is abandoned, so a server that stops answering cannot hold a
 * benchmark forever. The default is {@code vllm bench serve}'s client timeout, six hours.
 */
public final class OpenAiEndpoint {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
  /** The whole-request limit when none is given: {@code vllm bench serve}'s client timeout. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofHours(6);
  /** Fires the request timeouts of every endpoint; a daemon thread, so it never holds the JVM. */
  private static final ScheduledExecutorService TIMEOUTS = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "openai-request-timeouts");
    t.setDaemon(true);
    return t;
  });

  private final String url;
  private final URI completions;
  private final String servedModel;
  private final String apiKey;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final double temperature;

  /** An endpoint with the {@link #DEFAULT_REQUEST_TIMEOUT}. */
  public OpenAiEndpoint(String url, String servedModel, String apiKey) {
    this(url, servedModel, apiKey, DEFAULT_REQUEST_TIMEOUT);
  }

  /**
   * @param url the API's base URL, e.g. {@code http://127.0.0.1:8000/v1} (a trailing slash is dropped)
   * @param servedModel the {@code model} every request names
   * @param apiKey sent as {@code Authorization: Bearer <key>}; null for none
   * @param requestTimeout most time one request may take from its send to its last event (positive)
   * @throws IllegalArgumentException if {@code url} is not an absolute http(s) URL with a host
   */
  public OpenAiEndpoint(String url, String servedModel, String apiKey, Duration requestTimeout) {
    this(url, servedModel, apiKey, requestTimeout, 0);
  }

  /**
   * @param temperature every request's {@code temperature}: 0 (greedy) or more, finite
   * @throws IllegalArgumentException also if {@code temperature} is negative or not finite
   */
  public OpenAiEndpoint(String url, String servedModel, String apiKey, Duration requestTimeout, double temperature) {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("the temperature must be a finite number >= 0, not " + temperature);
    }
    this.temperature = temperature;
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("the request timeout must be positive, not " + requestTimeout);
    }
    this.requestTimeout = requestTimeout;
    this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    URI base;
    try {
      base = URI.create(this.url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + url + "' is not a URL: " + e.getMessage());
    }
    if (!("http".equals(base.getScheme()) || "https".equals(base.getScheme())) || base.getHost() == null) {
      throw new IllegalArgumentException("'" + url + "' is not an http:// or https:// URL with a host, "
          + "e.g. http://127.0.0.1:8000/v1");
    }
    this.completions = URI.create(this.url + "/completions");
    this.servedModel = servedModel;
    this.apiKey = apiKey;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();
  }

  /** The base URL, without a trailing slash. */
  public String url() {
    return url;
  }

  public String servedModel() {
    return servedModel;
  }

  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Every request's {@code temperature} (0: greedy). */
  public double temperature() {
    return temperature;
  }

  /** The JSON body of one request, in the field order above. */
  static String body(String servedModel, int[] promptTokens, int maxTokens, double temperature) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", servedModel);
    ArrayNode prompt = body.putArray("prompt");
    for (int t : promptTokens) prompt.add(t);
    body.put("max_tokens", maxTokens);
    if (temperature == 0) {
      body.put("temperature", 0);
    } else {
      body.put("temperature", temperature);
    }
    body.put("ignore_eos", true);
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    body.put("return_token_ids", true);
    return body.toString();
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri);
    if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
    return b;
  }

  /**
   * Sends one request. The future completes once the body has ended, the request failed or the
   * request timeout passed, never exceptionally: an HTTP status other than 200, an error event, a
   * lost connection or the timeout is the stream's failure reason.
   */
  public CompletableFuture<CompletionStream> stream(RequestSpec spec) {
    CompletionStream stream = new CompletionStream();
    Lines lines = new Lines(stream);
    HttpRequest request = request(completions).header("Content-Type", "application/json")
        .header("Accept", "text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString(body(servedModel, spec.promptTokens(), spec.maxTokens(), temperature)))
        .build();
    HttpResponse.BodyHandler<Void> handler = info -> info.statusCode() == 200
        ? BodySubscribers.fromLineSubscriber(lines, s -> null, StandardCharsets.UTF_8, null)
        : BodySubscribers.mapping(BodySubscribers.ofString(StandardCharsets.UTF_8), text -> {
          stream.failStatus(info.statusCode(), statusFailure(info.statusCode(), text));
          return null;
        });
    CompletableFuture<HttpResponse<Void>> sent;
    try {
      sent = http.sendAsync(request, handler);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<CompletionStream> ended = new CompletableFuture<>();
    CompletableFuture<HttpResponse<Void>> exchange = sent;
    ScheduledFuture<?> timer = TIMEOUTS.schedule(() -> {
      stream.failTimeout("no complete response within " + seconds(requestTimeout) + " s (the request timeout)",
          System.nanoTime());
      lines.cancel();
      exchange.cancel(true);
      ended.complete(stream);
    }, requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
    sent.handle((response, error) -> {
      timer.cancel(false);
      if (error != null) stream.failConnection(connectionFailure(error));
      stream.end(System.nanoTime());
      ended.complete(stream);
      return null;
    });
    return ended;
  }

  /** A duration in seconds as a user wrote it: "600", "0.5". */
  static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString();
  }

  /**
   * Why this endpoint cannot be benchmarked, from {@code GET {endpoint}/models}: it cannot be reached,
   * or it refuses the API key (401, 403). Null when it answers; any other status is left to the
   * requests to report. {@code warnings} gets a line when the served model is not among those listed.
   */
  public String unreachable(List<String> warnings) throws InterruptedException {
    HttpResponse<String> r;
    try {
      r = http.send(request(URI.create(url + "/models")).timeout(CONNECT_TIMEOUT).GET().build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      return "cannot reach " + url + ": " + connectionFailure(e);
    }
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      return "GET " + url + "/models: " + statusFailure(r.statusCode(), r.body());
    }
    if (r.statusCode() == 200) {
      List<String> ids = new ArrayList<>();
      try {
        JSON.readTree(r.body()).path("data").forEach(m -> ids.add(m.path("id").asText()));
      } catch (java.io.IOException e) {
        return null;
      }
      if (!ids.isEmpty() && !ids.contains(servedModel)) {
        warnings.add(url + "/models lists " + String.join(", ", ids) + ", not '" + servedModel + "'");
      }
    }
    return null;
  }

  /** "HTTP 429: too many requests in flight": the OpenAI error's message, else the body's start. */
  static String statusFailure(int status, String body) {
    String message = body == null ? "" : body;
    try {
      JsonNode json = JSON.readTree(message);
      if (json != null && json.has("error")) message = CompletionStream.errorMessage(json.get("error"));
    } catch (java.io.IOException e) {
      // not JSON: the body as it is
    }
    return CompletionStream.oneLine("HTTP " + status + (message.isBlank() ? "" : ": " + message));
  }

  /**
   * A failed exchange as one line: the exception's type (the future's wrapper taken off) and the
   * first message along its causes, e.g. "ConnectException" or "HttpTimeoutException: request timed out".
   */
  static String connectionFailure(Throwable error) {
    Throwable failure = error;
    while (failure instanceof CompletionException && failure.getCause() != null) failure = failure.getCause();
    String message = null;
    for (Throwable t = failure; t != null && message == null; t = t.getCause()) message = t.getMessage();
    String name = failure.getClass().getSimpleName();
    return CompletionStream.oneLine(message == null ? name : name + ": " + message);
  }

  /** Feeds the body's lines into the stream with their arrival times; cancelled at the request timeout. */
  private static final class Lines implements Flow.Subscriber<String> {
    private final CompletionStream stream;
    private Flow.Subscription subscription;
    private boolean cancelled;

    Lines(CompletionStream stream) {
      this.stream = stream;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      boolean cancel;
      synchronized (this) {
        this.subscription = subscription;
        cancel = cancelled;
      }
      if (cancel) {
        subscription.cancel();
      } else {
        subscription.request(Long.MAX_VALUE);
      }
    }

    /** Stops reading the body (now, or as soon as it starts). */
    void cancel() {
      Flow.Subscription s;
      synchronized (this) {
        cancelled = true;
        s = subscription;
      }
      if (s != null) s.cancel();
    }

    @Override
    public void onNext(String line) {
      stream.line(line, System.nanoTime());
    }

    @Override
    public void onError(Throwable error) {
      stream.failConnection(connectionFailure(error));
    }

    @Override
    public void onComplete() {}
  }
}
