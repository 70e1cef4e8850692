package io.decodefleet.coordinator.observability;

import io.decodefleet.agent.observability.EngineMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The fleet as the coordinator counts it: agents registered and up, agents lost, migrations (with
 * their KV or re-prefilled) and re-placements. The coordinator hands over its running totals
 * ({@link FleetCounts}); the counters grow by the difference (a new coordinator, whose totals start
 * again from 0, continues from there).
 */
final class FleetMetrics {
  private final EngineMetrics engine;
  private final Gauge registered;
  private final Gauge up;
  private final Counter lost;
  private final Counter migrations;
  private final Counter replacements;
  private FleetCounts last = new FleetCounts("", 0, java.util.Set.of(), 0, 0, 0, 0);
  private String lastLabel;

  FleetMetrics(PrometheusRegistry registry, EngineMetrics engine) {
    this.engine = engine;
    registered = Gauge.builder().name("decodefleet_agents_registered")
        .help("Agents registered with the coordinator, loaded or not.").register(registry);
    up = Gauge.builder().name("decodefleet_agents_up")
        .help("Agents of the fleet that are alive and have the model loaded.").labelNames("model_name")
        .register(registry);
    lost = Counter.builder().name("decodefleet_agents_lost_total")
        .help("Agents of the fleet that left the cluster (their sequences were re-placed).").register(registry);
    migrations = Counter.builder().name("decodefleet_migrations_total")
        .help("Sequences moved off a lost or drained agent: with their KV (kind kv) or re-prefilled elsewhere "
            + "(kind reprefill).").labelNames("kind").register(registry);
    replacements = Counter.builder().name("decodefleet_replacements_total")
        .help("Sequences taken off their agent and placed anew, re-prefilled (a failed or abandoned KV hand-off).")
        .register(registry);
  }

  /** @param modelLabel the model_name of {@code now.model()} */
  synchronized void counted(FleetCounts now, String modelLabel) {
    registered.set(now.registered());
    if (lastLabel != null && !lastLabel.equals(modelLabel)) up.remove(lastLabel);
    up.labelValues(modelLabel).set(now.up().size());
    lastLabel = modelLabel;
    engine.retainGauges(now.up());
    lost.inc(grown(last.agentsLost(), now.agentsLost()));
    long kv = grown(last.kvMigrations(), now.kvMigrations());
    migrations.labelValues("kv").inc(kv);
    migrations.labelValues("reprefill").inc(Math.max(0, grown(last.migrations(), now.migrations()) - kv));
    replacements.inc(grown(last.replacements(), now.replacements()));
    last = now;
  }

  /** How much a running total grew; a total below the last one started again from 0. */
  private static long grown(long before, long now) {
    return now >= before ? now - before : now;
  }
}
