package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which ends of a streamed completion the soak sends again: a real HTTP server on loopback answers
 * each way a coordinator can, and the attempt is classified from what crossed the socket.
 */
class HttpCompletionsTest {
  private static final RequestShape SHAPE = new RequestShape(0, new int[] {5, 6, 7}, 3);

  private HttpServer server;
  /** (status, body) the server answers next. */
  private volatile int status;
  private volatile String body;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/completions", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Attempt send() throws Exception {
    return new HttpCompletions(List.of(server.getAddress().getPort())).send(1, SHAPE, 0).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private static String events(String... data) {
    StringBuilder b = new StringBuilder();
    for (String d : data) b.append("data: ").append(d).append("\n\n");
    return b.toString();
  }

  @Test
  void aStreamToDoneCompletesWithEveryTokenId() throws Exception {
    status = 200;
    body = events("{\"choices\":[{\"text\":\"ab\",\"token_ids\":[11,12]}]}", "{\"choices\":[{\"text\":\"c\","
        + "\"token_ids\":[13]}]}", "{\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}]}", "[DONE]");
    Attempt a = send();
    assertEquals(Attempt.Outcome.COMPLETED, a.outcome());
    assertArrayEquals(new int[] {11, 12, 13}, a.tokens());
    assertFalse(a.duplicated());
  }

  @Test
  void moreTokensThanAskedForAreDuplicated() throws Exception {
    status = 200;
    body = events("{\"choices\":[{\"text\":\"ab\",\"token_ids\":[11,12]}]}", "{\"choices\":[{\"text\":\"bc\","
        + "\"token_ids\":[12,13]}]}", "[DONE]");
    Attempt a = send();
    assertEquals(Attempt.Outcome.COMPLETED, a.outcome());
    assertTrue(a.duplicated());
  }

  @Test
  void status503IsRetriedAndOtherStatusesAreNot() throws Exception {
    status = 503;
    body = "{\"error\":{\"message\":\"no live agent\",\"type\":\"service_unavailable\",\"param\":null,\"code\":null}}";
    Attempt a = send();
    assertEquals(Attempt.Outcome.RETRIABLE, a.outcome());
    assertEquals("HTTP 503: no live agent", a.reason());
    status = 400;
    body = "{\"error\":{\"message\":\"max_tokens: must be >= 1\",\"type\":\"invalid_request_error\"}}";
    assertEquals(Attempt.Outcome.FAILED, send().outcome());
  }

  @Test
  void anErrorEventIsRetriedOnlyWhenTheServiceIsUnavailable() throws Exception {
    status = 200;
    body = events("{\"choices\":[{\"text\":\"a\",\"token_ids\":[11]}]}",
        "{\"error\":{\"message\":\"the coordinator moved\",\"type\":\"service_unavailable\"}}", "[DONE]");
    assertEquals(Attempt.Outcome.RETRIABLE, send().outcome());
    body = events("{\"error\":{\"message\":\"agent failed\",\"type\":\"server_error\"}}", "[DONE]");
    Attempt a = send();
    assertEquals(Attempt.Outcome.FAILED, a.outcome());
    assertEquals("error: agent failed", a.reason());
  }

  @Test
  void aStreamCutBeforeDoneIsRetried() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread cut = new Thread(() -> {
        // A process that dies mid-stream: the headers and one event, then the connection closes.
        try (Socket s = listener.accept()) {
          BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
          while (!in.readLine().isEmpty()) {
            // request headers; the body is not needed
          }
          s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n" + chunk(events("{\"choices\":[{\"text\":\"a\",\"token_ids\":[11]}]}")))
              .getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      cut.start();
      Attempt a = new HttpCompletions(List.of(listener.getLocalPort())).send(1, SHAPE, 0).toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      cut.join();
      assertEquals(Attempt.Outcome.RETRIABLE, a.outcome(), a.reason());
    }
  }

  private static String chunk(String data) {
    return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
  }

  @Test
  void aRefusedConnectionIsRetried() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // free once closed: nothing listens there
    }
    Attempt a = new HttpCompletions(List.of(port)).send(1, SHAPE, 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(Attempt.Outcome.RETRIABLE, a.outcome(), a.reason());
  }
}
