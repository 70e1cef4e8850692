package io.decodefleet.coordinator.security;

import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.GrpcExceptionHandler;
import org.apache.pekko.grpc.javadsl.GrpcMarshalling;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.japi.function.Function;

/**
 * The API key of {@code coordinator serve} ({@code --api-key}): when set, every request of the OpenAI
 * API's {@code /v1} and every gRPC call must carry {@code Authorization: Bearer <key>} (gRPC metadata
 * {@code authorization}). The one comparison both APIs make, in constant time so that the answer's
 * timing does not tell how much of a guess was right.
 */
public final class ApiKey {
  private static final ApiKey NONE = new ApiKey(null);

  /** "Bearer &lt;key&gt;" in UTF-8, or null when no key is required. */
  private final byte[] expected;

  private ApiKey(byte[] expected) {
    this.expected = expected;
  }

  public static ApiKey none() {
    return NONE;
  }

  /** Requires {@code key}, if present. */
  public static ApiKey of(Optional<String> key) {
    return key.map(k -> new ApiKey(("Bearer " + k).getBytes(StandardCharsets.UTF_8))).orElse(NONE);
  }

  public boolean required() {
    return expected != null;
  }

  /** Whether the request's Authorization header (absent: empty) lets it through. */
  public boolean admits(Optional<String> authorization) {
    if (expected == null) return true;
    return authorization.isPresent()
        && MessageDigest.isEqual(expected, authorization.get().getBytes(StandardCharsets.UTF_8));
  }

  public boolean admits(HttpRequest request) {
    return admits(request.getHeader("Authorization").map(h -> h.value()));
  }

  /**
   * The gRPC handler behind this key: a call without it ends at once with UNAUTHENTICATED (in the
   * status and trailers a gRPC client reads, with the encoding the call asked for) and never reaches
   * {@code handler}.
   */
  public Function<HttpRequest, CompletionStage<HttpResponse>> guardGrpc(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler, ClassicActorSystemProvider system) {
    if (expected == null) return handler;
    GrpcServiceException refused = new GrpcServiceException(Status.UNAUTHENTICATED.withDescription(
        "missing or wrong API key: send the metadata 'authorization: Bearer <key>'"));
    return request -> {
      if (admits(request)) return handler.apply(request);
      request.discardEntityBytes(system);
      return GrpcMarshalling.negotiated(request, (reader, writer) -> CompletableFuture.completedFuture(
              GrpcExceptionHandler.standard(refused, writer, system)))
          .orElseGet(() -> CompletableFuture.completedFuture(
              HttpResponse.create().withStatus(StatusCodes.UNSUPPORTED_MEDIA_TYPE)));
    };
  }
}
