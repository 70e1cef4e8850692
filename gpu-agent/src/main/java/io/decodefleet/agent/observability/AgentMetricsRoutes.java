package io.decodefleet.agent.observability;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} beside {@code /alive} and {@code /ready} on the node's Pekko Management port:
 * its {@link AgentMetrics}. Pekko Management instantiates it from
 * {@code pekko.management.http.routes.decodefleet-metrics} (decodefleet-cluster.conf).
 */
public final class AgentMetricsRoutes extends AllDirectives implements ManagementRouteProvider {
  private final MetricsEndpoint endpoint;

  public AgentMetricsRoutes(ExtendedActorSystem system) {
    this.endpoint = AgentMetrics.get(Adapter.toTyped(system)).endpoint();
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() -> extractRequest(request -> complete(endpoint.respond(request)))));
  }
}
