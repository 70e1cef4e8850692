package io.decodefleet.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The part of the Kubernetes API server that kubernetes-api discovery uses, over HTTPS on loopback:
 * {@code GET /api/v1/namespaces/{ns}/pods?labelSelector=k=v,...} with a bearer token, answered with a
 * v1 PodList of the pods of that namespace whose labels match (equality selectors), 401 for a wrong
 * token, 400 for a selector it cannot read, 404 elsewhere; errors as v1 Status objects.
 */
final class KubernetesApiStub implements AutoCloseable {

  /** One request as the server saw it. */
  record Request(String path, String labelSelector, int status) {}

  private static final Pattern PODS = Pattern.compile("/api/v1/namespaces/([^/]+)/pods");

  private final HttpsServer server;
  private final String token;
  private final List<Pod> pods = new CopyOnWriteArrayList<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();

  private KubernetesApiStub(HttpsServer server, String token) {
    this.server = server;
    this.token = token;
  }

  static KubernetesApiStub start(SSLContext tls, String token) throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    KubernetesApiStub stub = new KubernetesApiStub(server, token);
    server.createContext("/", stub::handle);
    server.start();
    return stub;
  }

  int port() {
    return server.getAddress().getPort();
  }

  void addPod(Pod pod) {
    pods.add(pod);
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String selector = query(exchange.getRequestURI().getRawQuery()).get("labelSelector");
    int status;
    String body;
    Matcher m = PODS.matcher(path);
    if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      status = 401;
      body = statusObject(401, "Unauthorized", "Unauthorized");
    } else if (!m.matches() || !exchange.getRequestMethod().equals("GET")) {
      status = 404;
      body = statusObject(404, "NotFound", "the server could not find the requested resource");
    } else {
      Map<String, String> wanted;
      try {
        wanted = selector == null ? Map.of() : BootstrapSettings.parseSelector(selector);
      } catch (IllegalArgumentException e) {
        wanted = null;
      }
      if (wanted == null) {
        status = 400;
        body = statusObject(400, "BadRequest", "unable to parse requirement: " + selector);
      } else {
        String namespace = m.group(1);
        Map<String, String> w = wanted;
        List<Pod> matching = pods.stream().filter(p -> namespace.equals(p.getMetadata().getNamespace()))
            .filter(p -> w.entrySet().stream().allMatch(e -> e.getValue().equals(p.getMetadata().getLabels().get(e.getKey()))))
            .toList();
        PodList list = new PodListBuilder().withNewMetadata().withResourceVersion("4711").endMetadata()
            .withItems(matching).build();
        status = 200;
        body = ManifestYaml.JSON.writeValueAsString(list);
      }
    }
    requests.add(new Request(path, selector, status));
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String statusObject(int code, String reason, String message) {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\""
        + message + "\",\"reason\":\"" + reason + "\",\"code\":" + code + "}";
  }

  private static Map<String, String> query(String raw) {
    if (raw == null || raw.isEmpty()) return Map.of();
    Map<String, String> params = new HashMap<>();
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      params.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return params;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
