package io.decodefleet.coordinator.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.coordinator.metrics.MetricsRecorder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One streamed completion as it arrives: the Server-Sent Events body of {@code POST /completions}
 * with {@code "stream": true}, fed line by line, each line with the time it arrived on the client's
 * clock ({@link System#nanoTime()}).
 *
 * <p>Framing follows the SSE specification as OpenAI-compatible servers use it: an event is its
 * {@code data:} lines (one space after the colon dropped, several joined by a newline) up to a blank
 * line; comment lines ({@code :...}) and other fields ({@code event:}, {@code id:}, {@code retry:})
 * are ignored. An event's time is the arrival of its first {@code data:} line.
 *
 * <ul>
 *   <li>{@code data: [DONE]} ends the stream;
 *   <li>{@code data: {"error": {...}}} fails it with the error's message;
 *   <li>any other event is a JSON chunk. Its token count is the length of {@code choices[0].token_ids}
 *       when present (vLLM's {@code return_token_ids}), else 1 when its text ({@code
 *       choices[0].text}, or a chat delta's {@code content}) is not empty, else 0 (the last chunk
 *       carries only the finish reason);
 *   <li>{@code usage.completion_tokens}, from the chunk {@code stream_options.include_usage} adds,
 *       is the request's final token count.
 * </ul>
 *
 * A body that ends before {@code [DONE]} fails the request. Failure reasons are one line.
 *
 * <p>Fed by an HTTP client's body subscriber and, when the request timeout passes first, by the
 * timer that ends it; every method holds the stream's lock, so the two never interleave.
 */
public final class CompletionStream {
  /** Longest failure reason kept, characters. */
  static final int MAX_REASON = 300;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One event that carried tokens: when it arrived and how many. */
  record Chunk(long nanos, int tokens) {}

  private final List<Chunk> chunks = new ArrayList<>();
  /** (ids) the token ids the chunks gave; complete only when every token chunk gave them. */
  private int[] tokenIds = new int[0];
  private int idCount;
  private boolean everyChunkHadIds = true;
  private int counted;
  private int usageTokens = -1;
  private boolean done;
  private long endNanos;
  private String failure;
  /** How it failed: the HTTP status that refused it, the error event's type, or the connection lost. */
  private int refusedStatus;
  private String errorType;
  private boolean connectionLost;
  private boolean timedOut;
  private final StringBuilder data = new StringBuilder();
  private boolean pending;
  private long pendingNanos;

  /** One line of the body, without its line end, arriving at {@code nanos}. */
  public synchronized void line(String line, long nanos) {
    if (line.isEmpty()) {
      dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    if (!field.equals("data")) return;
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    if (!pending) {
      pending = true;
      pendingNanos = nanos;
    } else {
      data.append('\n');
    }
    data.append(value);
  }

  /** The body ended at {@code nanos}: a last event without its blank line still counts. */
  public synchronized void end(long nanos) {
    dispatch();
    if (endNanos == 0) endNanos = nanos;
    if (!done && failure == null) failConnection("the stream ended before data: [DONE]");
  }

  /** The request failed (an HTTP status, a connection error); the first reason stays. */
  public synchronized void fail(String reason) {
    if (failure == null && !done) failure = oneLine(reason);
  }

  /** The server answered {@code status} (not 200) instead of a stream. */
  synchronized void failStatus(int status, String reason) {
    if (failure == null && !done) refusedStatus = status;
    fail(reason);
  }

  /**
   * The request timeout passed at {@code nanos} before the stream ended: it fails with {@code reason}
   * and ends there; whatever the abandoned connection still delivers is ignored.
   */
  synchronized void failTimeout(String reason, long nanos) {
    if (failure == null && !done) timedOut = true;
    fail(reason);
    end(nanos);
  }

  /** The connection failed or closed before {@code [DONE]}: refused, reset, or the body cut short. */
  synchronized void failConnection(String reason) {
    if (failure == null && !done) connectionLost = true;
    fail(reason);
  }

  private void dispatch() {
    if (!pending) return;
    String event = data.toString();
    long nanos = pendingNanos;
    data.setLength(0);
    pending = false;
    if (done || failure != null) return;
    if (event.equals("[DONE]")) {
      done = true;
      endNanos = nanos;
      return;
    }
    JsonNode chunk;
    try {
      chunk = JSON.readTree(event);
    } catch (JsonProcessingException e) {
      fail("unreadable event: " + event);
      return;
    }
    if (chunk == null || !chunk.isObject()) {
      fail("unreadable event: " + event);
      return;
    }
    if (chunk.has("error")) {
      errorType = chunk.get("error").path("type").asText(null);
      fail("error: " + errorMessage(chunk.get("error")));
      return;
    }
    JsonNode usage = chunk.path("usage").path("completion_tokens");
    if (usage.canConvertToInt()) usageTokens = usage.intValue();
    JsonNode choice = chunk.path("choices").path(0);
    if (choice.isMissingNode()) return;
    int tokens;
    JsonNode ids = choice.get("token_ids");
    if (ids != null && ids.isArray()) {
      tokens = ids.size();
      for (JsonNode id : ids) addId(id.intValue());
    } else {
      JsonNode text = choice.has("text") ? choice.path("text") : choice.path("delta").path("content");
      tokens = text.asText("").isEmpty() ? 0 : 1;
      if (tokens > 0) everyChunkHadIds = false;
    }
    if (tokens > 0) {
      chunks.add(new Chunk(nanos, tokens));
      counted += tokens;
    }
  }

  private void addId(int id) {
    if (idCount == tokenIds.length) tokenIds = Arrays.copyOf(tokenIds, Math.max(16, 2 * idCount));
    tokenIds[idCount++] = id;
  }

  /** An OpenAI error object's message (or the object itself, or a bare string). */
  static String errorMessage(JsonNode error) {
    if (error.isTextual()) return error.textValue();
    JsonNode message = error.get("message");
    return message != null && message.isTextual() ? message.textValue() : error.toString();
  }

  /** Whitespace runs (newlines too) as one space, at most {@link #MAX_REASON} characters. */
  static String oneLine(String text) {
    String line = (text == null ? "unknown" : text).replaceAll("\\s+", " ").trim();
    return line.length() <= MAX_REASON ? line : line.substring(0, MAX_REASON - 3) + "...";
  }

  /** Whether the stream reached {@code [DONE]} without an error. */
  public synchronized boolean completed() {
    return done && failure == null;
  }

  /** Why the request failed; null when it completed (or is still streaming). */
  public synchronized String failure() {
    return failure;
  }

  /** The HTTP status other than 200 that refused the request; 0 when it was not refused. */
  public synchronized int refusedStatus() {
    return refusedStatus;
  }

  /** The {@code type} of the error event that ended the stream (e.g. "server_error"); null if none did. */
  public synchronized String errorType() {
    return errorType;
  }

  /**
   * Whether it failed because the connection did: it could not be opened, was reset, or closed before
   * {@code [DONE]}. Such a request may be sent again; the server may or may not have started it.
   */
  public synchronized boolean connectionLost() {
    return connectionLost;
  }

  /** Whether it failed because the request timeout passed first. */
  public synchronized boolean timedOut() {
    return timedOut;
  }

  /** The events that carried tokens, in arrival order. */
  synchronized List<Chunk> chunks() {
    return List.copyOf(chunks);
  }

  /** Tokens the chunks carried, counted as the class comment says. */
  public synchronized int countedTokens() {
    return counted;
  }

  /** {@code usage.completion_tokens}, or -1 when the server sent no usage. */
  public synchronized int usageTokens() {
    return usageTokens;
  }

  /** (tokens) the generated token ids, when every chunk with tokens gave its {@code token_ids}; else null. */
  public synchronized int[] tokenIds() {
    return everyChunkHadIds ? Arrays.copyOf(tokenIds, idCount) : null;
  }

  /**
   * Records the request into {@code recorder} (released there already under {@code requestId}):
   * every chunk's tokens at its arrival time, then finished or failed with its reason.
   *
   * <p>The token count is the usage's {@code completion_tokens} where the server sent it and the
   * stream completed, since a server need not stream one chunk per token (a chunk whose text is
   * held back, or several tokens in one chunk, when it does not return token ids): tokens beyond
   * the chunks' count are taken to have arrived with the last chunk, and a usage below it drops
   * tokens from the last chunks. TTFT and E2E keep the chunks' times either way; TPOT divides by
   * the usage's count, as {@code vllm bench serve} does. Without usage, the chunks' count stands.
   */
  public synchronized void recordInto(MetricsRecorder recorder, long requestId, String agentId) {
    int[] counts = chunks.stream().mapToInt(Chunk::tokens).toArray();
    if (completed() && usageTokens >= 0 && counts.length > 0) {
      int diff = usageTokens - counted;
      if (diff > 0) counts[counts.length - 1] += diff;
      for (int i = counts.length - 1; i >= 0 && diff < 0; i--) {
        int cut = Math.min(counts[i], -diff);
        counts[i] -= cut;
        diff += cut;
      }
    }
    for (int i = 0; i < counts.length; i++) {
      recorder.tokensArrived(requestId, agentId, counts[i], chunks.get(i).nanos());
    }
    if (completed()) {
      recorder.requestFinished(requestId, endNanos);
    } else {
      recorder.requestFailed(requestId, failure == null ? "the stream did not end" : failure, endNanos);
    }
  }
}
