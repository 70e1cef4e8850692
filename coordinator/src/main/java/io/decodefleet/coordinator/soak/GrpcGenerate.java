package io.decodefleet.coordinator.soak;

import io.decodefleet.api.DecodeFleetClient;
import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.api.SamplingParams;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * {@code Generate} over gRPC, one client per coordinator (plaintext HTTP/2), as any external client
 * would call it. A client tries to reconnect for as long as it lives, so a coordinator that is down and
 * comes back on the same port is reached again by the same client.
 *
 * <p>An attempt completes when the stream ends with its summary; the streamed tokens must follow one
 * another (each event's index is the count so far: a smaller index is a token delivered twice, a
 * larger one tokens lost) and agree with the summary. It ends RETRIABLE with {@code UNAVAILABLE},
 * which is also what the client reports for a connection refused or reset.
 */
final class GrpcGenerate implements AutoCloseable {
  private final ActorSystem<?> system;
  private final List<DecodeFleetClient> clients = new ArrayList<>();

  /** @param ports the gRPC port of each coordinator, on 127.0.0.1 */
  GrpcGenerate(ActorSystem<?> system, List<Integer> ports) {
    this.system = system;
    for (int port : ports) {
      clients.add(DecodeFleetClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system)
          .withTls(false).withConnectionAttempts(-1), system));
    }
  }

  CompletionStage<Attempt> send(RequestShape shape, int coordinator) {
    GenerateRequest.Builder request = GenerateRequest.newBuilder().setMaxTokens(shape.maxTokens())
        .setSampling(SamplingParams.newBuilder().setTemperature(0).setIgnoreEos(true));
    for (int t : shape.prompt()) request.addPromptTokenIds(t);
    StreamedTokens streamed = new StreamedTokens();
    return clients.get(coordinator).generate(request.build()).runForeach(streamed::add, system)
        .handle((done, error) -> error != null ? streamed.failed(error) : streamed.ended(shape.maxTokens()));
  }

  @Override
  public void close() {
    clients.forEach(DecodeFleetClient::close);
  }

  /** One stream's events as they arrive (on one stream thread at a time). */
  private static final class StreamedTokens {
    private final List<Integer> tokens = new ArrayList<>();
    private boolean duplicated;
    private String gap;
    private GenerateSummary summary;

    void add(GenerateEvent e) {
      if (e.hasSummary()) {
        summary = e.getSummary();
        return;
      }
      if (!e.hasToken()) return;
      int index = e.getToken().getIndex();
      List<Integer> ids = e.getToken().getTokenIdsList();
      for (int i = 0; i < ids.size(); i++) {
        int at = index + i;
        if (at < tokens.size()) {
          duplicated = true;
        } else if (at > tokens.size()) {
          if (gap == null) gap = "tokens " + tokens.size() + ".." + (at - 1) + " never arrived";
        } else {
          tokens.add(ids.get(i));
        }
      }
    }

    Attempt ended(int maxTokens) {
      if (gap != null) return Attempt.failed(gap, duplicated);
      if (summary == null) return Attempt.failed("the stream ended without a summary", duplicated);
      if (!summary.getOutputTokenIdsList().equals(tokens)) {
        return Attempt.failed("the summary's " + summary.getOutputTokenIdsCount() + " token ids differ from the "
            + tokens.size() + " streamed", duplicated);
      }
      if (tokens.size() > maxTokens) duplicated = true;
      return Attempt.completed(tokens.stream().mapToInt(Integer::intValue).toArray(), duplicated,
          summary.getMigrations());
    }

    Attempt failed(Throwable error) {
      Status status = statusOf(error);
      if (status == null) return Attempt.failed(describe(error), duplicated);
      String reason = "gRPC " + status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
      return status.getCode() == Status.Code.UNAVAILABLE ? Attempt.retriable(reason, duplicated)
          : Attempt.failed(reason, duplicated);
    }

    private static Status statusOf(Throwable error) {
      for (Throwable t = error; t != null; t = t.getCause()) {
        if (t instanceof StatusRuntimeException s) return s.getStatus();
      }
      return null;
    }

    private static String describe(Throwable error) {
      Throwable t = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
          ? error.getCause() : error;
      return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
  }
}
