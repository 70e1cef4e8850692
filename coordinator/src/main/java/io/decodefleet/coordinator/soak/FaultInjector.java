package io.decodefleet.coordinator.soak;

import io.decodefleet.coordinator.soak.SoakCluster.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The faults of a soak, one every {@code interval} from its start until its end: a daemon chosen at
 * random among those up is sent SIGKILL or SIGTERM (each with probability 1/2) and started again; with
 * two or more coordinators, the active coordinator is killed once, at the first moment from a third
 * of the duration on where every node is up, and started again too (from that third on no daemon is
 * stopped until the coordinator is back). A node is restarted in the background once it has exited, so faults keep their rhythm; no
 * fault takes the last daemon that is up. Choices come from the soak's seed.
 *
 * <p>The active coordinator gets SIGKILL, with two coordinator nodes too: the split brain resolver
 * (CoordinatorMajority) gives the crashed one's side, alone against the other coordinator node and
 * the agents, the smaller count of members, so the other goes on and starts the singleton.
 */
final class FaultInjector {
  enum Kind {
    DAEMON_SIGKILL("daemon_sigkill"),
    DAEMON_SIGTERM("daemon_sigterm"),
    COORDINATOR_SIGKILL("coordinator_sigkill");

    boolean coordinator() {
      return this == COORDINATOR_SIGKILL;
    }

    boolean sigkill() {
      return this == DAEMON_SIGKILL || this == COORDINATOR_SIGKILL;
    }

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /**
   * One fault.
   *
   * @param atSeconds when, from the start of the soak's load
   * @param node the node it hit, with the pid of the process that was stopped
   * @param restartSeconds how long the node took to be back (exited, started, ready); -1 if it did not come back
   * @param problem what went wrong with it (a SIGTERM not obeyed, a restart that failed); null if nothing
   */
  record Fault(double atSeconds, Kind kind, String node, long pid, double restartSeconds, String problem) {}

  /** Finds the coordinator that hosts the singleton now, and keeps the last counts of one about to be killed. */
  interface Coordinators {
    Node active();

    void beforeKill(Node coordinator);
  }

  /** How often a due coordinator fault looks whether every node is up. */
  static final Duration POLL = Duration.ofSeconds(1);

  private final SoakCluster cluster;
  private final Coordinators coordinators;
  private final SplittableRandom random;
  private final Duration interval;
  private final ExecutorService restarts = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "soak-restart");
    t.setDaemon(true);
    return t;
  });
  private final Set<Node> down = ConcurrentHashMap.newKeySet();
  private final List<Future<Fault>> faults = new ArrayList<>();
  private int skipped;

  FaultInjector(SoakCluster cluster, Coordinators coordinators, long seed, Duration interval) {
    this.cluster = cluster;
    this.coordinators = coordinators;
    this.random = new SplittableRandom(seed ^ 0x5eed_fa17L);
    this.interval = interval;
  }

  /** Injects faults from {@code startNanos} until {@code endNanos} (System.nanoTime()); returns then. */
  void run(long startNanos, long endNanos) throws InterruptedException {
    boolean coordinatorStopped = cluster.coordinators().size() < 2;
    long due = startNanos + (endNanos - startNanos) / 3;
    long at = startNanos + interval.toNanos();
    while (true) {
      long now = System.nanoTime();
      if (now >= endNanos) return;
      boolean coordinatorDue = !coordinatorStopped && now >= due;
      double atSeconds = (now - startNanos) / 1e9;
      // The coordinator's fault comes alone: once every node is up (looked at every second, as daemon
      // restarts take long on a busy machine), and no daemon is stopped until the coordinator is back
      // (a serve node that joins while the fleet is short of an agent refuses to start: see
      // docs/reliability.md).
      if (coordinatorDue && down.isEmpty()) {
        coordinatorStopped = true;
        Node active = coordinators.active();
        coordinators.beforeKill(active);
        inject(active, Kind.COORDINATOR_SIGKILL, atSeconds);
        continue;
      }
      if (now < at) {
        long next = coordinatorStopped ? at : Math.min(at, Math.max(due, now + POLL.toNanos()));
        TimeUnit.NANOSECONDS.sleep(Math.min(next, endNanos) - now);
        continue;
      }
      at += interval.toNanos();
      List<Node> up = cluster.daemons().stream().filter(d -> !down.contains(d)).toList();
      if (coordinatorDue || down.stream().anyMatch(n -> n.coordinator) || up.size() < 2) {
        skipped++;
        continue;
      }
      Node victim = up.get(random.nextInt(up.size()));
      inject(victim, random.nextBoolean() ? Kind.DAEMON_SIGKILL : Kind.DAEMON_SIGTERM, atSeconds);
    }
  }

  private void inject(Node node, Kind kind, double atSeconds) {
    down.add(node);
    long pid = node.process().pid();
    long began = System.nanoTime();
    faults.add(restarts.submit(() -> {
      String problem;
      double took = -1;
      try {
        problem = cluster.restart(node, kind.sigkill());
        took = (System.nanoTime() - began) / 1e9;
      } catch (Exception e) {
        problem = "restart failed: " + e.getMessage();
      } finally {
        down.remove(node);
      }
      return new Fault(atSeconds, kind, node.name, pid, took, problem);
    }));
  }

  /** Whether every coordinator has exited while no fault of the soak's stopped it (nothing serves any more). */
  boolean coordinatorsGone() {
    return cluster.coordinators().stream().noneMatch(c -> c.process().alive() || down.contains(c));
  }

  /** Waits for every restart to end (each is bounded by the cluster's start and exit timeouts). */
  List<Fault> awaitRestarts() throws InterruptedException {
    List<Fault> out = new ArrayList<>();
    for (Future<Fault> f : faults) {
      try {
        out.add(f.get());
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("a restart task failed", e.getCause()); // it catches everything
      }
    }
    restarts.shutdown();
    return out;
  }

  /** Fault ticks that stopped nothing: fewer than two daemons up, or the coordinator's fault waiting or under way. */
  int skipped() {
    return skipped;
  }
}
