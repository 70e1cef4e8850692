package io.decodefleet.coordinator.soak;

import io.decodefleet.coordinator.soak.SoakCluster.Node;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The coordinators' {@code /metrics}, followed across their restarts. Counters live in a process, and
 * a killed coordinator takes its own with it, so each process's counters are kept as last scraped
 * (every few seconds, and just before the soak kills it); a figure of the soak is the sum over every
 * coordinator process of how much it grew there since the soak's load began.
 */
final class CoordinatorScrapes implements FaultInjector.Coordinators {
  static final String AGENTS_REGISTERED = "decodefleet_agents_registered";
  static final String AGENTS_UP = "decodefleet_agents_up";

  private final SoakCluster cluster;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** by pid: the scrape when the load began (none for a process started later), the latest one */
  private final Map<Long, MetricsScrape> baseline = new HashMap<>();
  private final Map<Long, MetricsScrape> latest = new HashMap<>();

  CoordinatorScrapes(SoakCluster cluster) {
    this.cluster = cluster;
  }

  HttpClient http() {
    return http;
  }

  /** Scrapes every coordinator now: the figures count from here. */
  synchronized void baseline() throws InterruptedException {
    refresh();
    baseline.putAll(latest);
  }

  /** Scrapes every coordinator that is up; one that does not answer keeps its last scrape. */
  synchronized void refresh() throws InterruptedException {
    for (Node c : cluster.coordinators()) scrape(c);
  }

  private void scrape(Node c) throws InterruptedException {
    ChildProcess p = c.process();
    if (!p.alive()) return;
    try {
      latest.put(p.pid(), MetricsScrape.of(http, c.httpPort));
    } catch (IOException e) {
      // down or busy: its last scrape stands
    }
  }

  /**
   * Waits until the active coordinator counts {@code agents} agents of the fleet up ({@code
   * decodefleet_agents_up}), at most {@code timeout}; returns the last count (-1 if none was read).
   */
  int awaitAgentsUp(int agents, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int up = -1;
    while (true) {
      Node active = active();
      try {
        up = (int) Math.round(MetricsScrape.of(http, active.httpPort).sum(AGENTS_UP));
      } catch (IOException e) {
        // not answering now: ask again
      }
      if (up == agents || System.nanoTime() > deadline) return up;
      Thread.sleep(250);
    }
  }

  /** How much {@code figure} grew over the soak, summed over every coordinator process. */
  synchronized long grown(ToDoubleFunction<MetricsScrape> figure) {
    double total = 0;
    for (Map.Entry<Long, MetricsScrape> e : latest.entrySet()) {
      MetricsScrape before = baseline.get(e.getKey());
      total += figure.applyAsDouble(e.getValue()) - (before == null ? 0 : figure.applyAsDouble(before));
    }
    return Math.round(total);
  }

  /**
   * The coordinator that hosts the Coordinator singleton: the one whose {@code /metrics} counts the
   * fleet's agents (only the singleton feeds those figures); else the first that is up.
   */
  @Override
  public synchronized Node active() {
    Node firstUp = null;
    for (Node c : cluster.coordinators()) {
      if (!c.process().alive()) continue;
      if (firstUp == null) firstUp = c;
      try {
        if (MetricsScrape.of(http, c.httpPort).sample(AGENTS_REGISTERED).orElse(0) > 0) return c;
      } catch (IOException e) {
        // not answering: not the one to kill
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return firstUp != null ? firstUp : cluster.coordinators().get(0);
  }

  @Override
  public synchronized void beforeKill(Node coordinator) {
    try {
      scrape(coordinator);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
