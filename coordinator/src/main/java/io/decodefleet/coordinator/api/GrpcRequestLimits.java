package io.decodefleet.coordinator.api;

import io.decodefleet.coordinator.admission.RequestSizeLimits;
import io.grpc.Status;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.Materializer;

/**
 * The gRPC port's {@link RequestSizeLimits}, in front of the generated handler (Pekko gRPC has no
 * limit of its own on a request message, and Pekko HTTP none on the size of HTTP/2 headers): a
 * request whose metadata is over the limits, or whose message is larger than {@link
 * RequestSizeLimits#MAX_BODY_BYTES}, is answered RESOURCE_EXHAUSTED without reaching the service, and
 * a message is read only up to the limit. Every call of the API takes one request message, so the
 * message is read whole before the handler sees it.
 */
public final class GrpcRequestLimits {
  /** The gRPC frame before a message: a compressed flag and the message's length. */
  private static final int FRAME_HEADER_BYTES = 5;
  /** How long a request's message may take to arrive. */
  private static final long READ_TIMEOUT_MILLIS = 30_000;

  private GrpcRequestLimits() {}

  /** {@code handler} behind the limits. */
  public static Function<HttpRequest, CompletionStage<HttpResponse>> around(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler, ActorSystem<?> system) {
    Materializer mat = Materializer.matFromSystem(system);
    return request -> {
      String headers = RequestSizeLimits.headersExcess(request.getHeaders());
      if (headers != null) {
        request.discardEntityBytes(mat);
        return CompletableFuture.completedFuture(status(Status.RESOURCE_EXHAUSTED.withDescription("metadata: "
            + headers)));
      }
      return request.entity().withSizeLimit(RequestSizeLimits.MAX_BODY_BYTES + FRAME_HEADER_BYTES)
          .toStrict(READ_TIMEOUT_MILLIS, mat)
          .thenCompose(strict -> {
            try {
              return handler.apply(request.withEntity(strict));
            } catch (Exception e) {
              throw new CompletionException(e);
            }
          })
          .exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof EntityStreamSizeException) {
              return status(Status.RESOURCE_EXHAUSTED.withDescription("message: larger than "
                  + RequestSizeLimits.MAX_BODY_BYTES + " bytes"));
            }
            return status(Status.INTERNAL.withDescription(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
          });
    };
  }

  /**
   * The gRPC server's settings: HTTP/2, and the HTTP parser's header limits above this class's checks
   * (on HTTP/2, past them the parser closes the whole connection with no status): {@link
   * RequestSizeLimits#PARSER_MAX_HEADERS} headers, a name of 256 characters, a value of 4 × {@link
   * RequestSizeLimits#MAX_HEADER_BYTES}.
   */
  public static ServerSettings settings(ActorSystem<?> system) {
    return ServerSettings.create(com.typesafe.config.ConfigFactory.parseString(
            "pekko.http.server.preview.enable-http2 = on\n"
                + "pekko.http.server.parsing.max-header-name-length = 256\n"
                + "pekko.http.server.parsing.max-header-value-length = " + 4 * RequestSizeLimits.MAX_HEADER_BYTES)
        .withFallback(RequestSizeLimits.parserSettings()).withFallback(system.settings().config()));
  }

  /** A call that ends before any message: gRPC's trailers-only answer, its status in the headers. */
  static HttpResponse status(Status status) {
    List<org.apache.pekko.http.javadsl.model.HttpHeader> headers = new java.util.ArrayList<>();
    headers.add(RawHeader.create("grpc-status", String.valueOf(status.getCode().value())));
    if (status.getDescription() != null) {
      // grpc-message is percent-encoded (gRPC over HTTP/2); a space may stay a space.
      headers.add(RawHeader.create("grpc-message",
          URLEncoder.encode(status.getDescription(), StandardCharsets.UTF_8).replace("+", "%20")));
    }
    return HttpResponse.create().addHeaders(headers).withEntity(HttpEntities.create(
        ContentTypes.create(MediaTypes.applicationBinary("grpc", false)), new byte[0]));
  }
}
