package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.decodefleet.coordinator.soak.SoakRequest.Protocol;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two "coordinators" on loopback: one that is down (every request gets 503), one that answers. A
 * request is one record however many attempts it takes; a retriable end sends it to the other
 * coordinator; a final failure ends it at once.
 */
class SoakLoadTest {
  private static final RequestShape SHAPE = new RequestShape(0, new int[] {1, 2, 3}, 2);
  private static final String STREAM = "data: {\"choices\":[{\"text\":\"ab\",\"token_ids\":[41,42]}]}\n\ndata: [DONE]\n\n";

  private HttpServer down;
  private HttpServer up;
  private final AtomicInteger downHits = new AtomicInteger();
  private final AtomicInteger upHits = new AtomicInteger();
  private volatile int upStatus = 200;

  @BeforeEach
  void start() throws IOException {
    down = server(503, "{\"error\":{\"message\":\"no model is loaded on the cluster\",\"type\":\"service_unavailable\"}}",
        downHits);
    up = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    up.createContext("/v1/completions", exchange -> {
      exchange.getRequestBody().readAllBytes();
      upHits.incrementAndGet();
      byte[] body = (upStatus == 200 ? STREAM : "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(upStatus, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    up.start();
  }

  private static HttpServer server(int status, String body, AtomicInteger hits) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/v1/completions", exchange -> {
      exchange.getRequestBody().readAllBytes();
      hits.incrementAndGet();
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    s.start();
    return s;
  }

  @AfterEach
  void stop() {
    down.stop(0);
    up.stop(0);
  }

  private SoakLoad load() {
    HttpCompletions http = new HttpCompletions(List.of(down.getAddress().getPort(), up.getAddress().getPort()));
    return new SoakLoad(null, http, 2, 4);
  }

  @Test
  void aRequestRefusedByADownCoordinatorCompletesOnTheOtherAsOneRecord() throws Exception {
    try (SoakLoad load = load()) {
      // id 0 goes to coordinator 0 (down) first; id -1, as the reference run numbers them, to coordinator 1.
      RequestRecord first = load.send(new SoakRequest(0, SHAPE, Protocol.HTTP), Duration.ofSeconds(5));
      RequestRecord negative = load.send(new SoakRequest(-1, SHAPE, Protocol.HTTP), Duration.ofSeconds(5));
      assertTrue(load.awaitIdle(Duration.ofSeconds(30)));

      assertEquals(1, first.completions());
      assertEquals(2, first.attempts());
      assertEquals(List.of("coordinator-0: HTTP 503: no model is loaded on the cluster"), first.retries());
      assertArrayEquals(new int[] {41, 42}, first.tokens());
      assertNull(first.failure());
      assertEquals(1, negative.completions());
      assertEquals(1, negative.attempts(), "a negative id picks a coordinator too");
      assertEquals(2, load.records().size());
      assertEquals(1, downHits.get());
      assertEquals(2, upHits.get());
    }
  }

  @Test
  void aFinalFailureEndsTheRequestWithoutAnotherAttempt() throws Exception {
    upStatus = 400;
    try (SoakLoad load = load()) {
      RequestRecord r = load.send(new SoakRequest(1, SHAPE, Protocol.HTTP), Duration.ofSeconds(5));
      assertTrue(load.awaitIdle(Duration.ofSeconds(30)));

      assertEquals(0, r.completions());
      assertEquals(1, r.attempts());
      assertEquals("coordinator-1: HTTP 400: bad", r.failure());
      assertEquals(0, downHits.get());
    }
  }

  @Test
  void aRequestStillRetryingWhenTheWaitEndsIsAbandonedAsLost() throws Exception {
    try (SoakLoad load = new SoakLoad(null, new HttpCompletions(List.of(down.getAddress().getPort())), 1, 4)) {
      RequestRecord r = load.send(new SoakRequest(5, SHAPE, Protocol.HTTP), Duration.ofSeconds(5));
      assertTrue(!load.awaitIdle(Duration.ofSeconds(2)), "a coordinator that is always down never completes it");

      assertEquals(0, r.completions());
      assertTrue(r.attempts() >= 2, "it was retried: " + r.attempts());
      assertTrue(r.failure().startsWith("still outstanding 2 s after the load stopped"), r.failure());
    }
  }
}
