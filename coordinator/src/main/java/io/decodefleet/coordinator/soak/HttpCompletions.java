package io.decodefleet.coordinator.soak;

import io.decodefleet.coordinator.client.CompletionStream;
import io.decodefleet.coordinator.client.OpenAiEndpoint;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Streamed {@code POST /v1/completions} over HTTP/1.1, one {@link OpenAiEndpoint} per coordinator
 * (the client that client mode uses: the prompt as token ids, greedy, EOS ignored, {@code
 * return_token_ids}). An attempt completes at {@code data: [DONE]} with every token's id; it ends
 * RETRIABLE with HTTP 503, an error event of type {@code service_unavailable}, or a connection that
 * could not be opened, was reset or closed before {@code [DONE]}.
 */
final class HttpCompletions {
  static final String UNAVAILABLE_TYPE = "service_unavailable";

  private final List<OpenAiEndpoint> endpoints = new ArrayList<>();

  /** @param ports the HTTP port of each coordinator, on 127.0.0.1 */
  HttpCompletions(List<Integer> ports) {
    for (int port : ports) endpoints.add(new OpenAiEndpoint("http://127.0.0.1:" + port + "/v1", SoakSettings.MODEL, null));
  }

  CompletionStage<Attempt> send(long requestId, RequestShape shape, int coordinator) {
    return endpoints.get(coordinator).stream(new RequestSpec(requestId, 0, shape.prompt(), shape.maxTokens()))
        .thenApply(stream -> attempt(stream, shape.maxTokens()));
  }

  static Attempt attempt(CompletionStream stream, int maxTokens) {
    int[] ids = stream.tokenIds();
    boolean duplicated = ids != null && ids.length > maxTokens;
    if (stream.completed()) {
      if (ids == null) return Attempt.failed("a chunk with text came without its token_ids", duplicated);
      return Attempt.completed(ids, duplicated, 0);
    }
    String reason = stream.failure();
    boolean retriable = stream.refusedStatus() == 503 || stream.connectionLost()
        || UNAVAILABLE_TYPE.equals(stream.errorType());
    return retriable ? Attempt.retriable(reason, duplicated) : Attempt.failed(reason, duplicated);
  }
}
