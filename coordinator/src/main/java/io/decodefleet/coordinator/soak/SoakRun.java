package io.decodefleet.coordinator.soak;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.coordinator.soak.SoakCluster.Node;
import io.decodefleet.coordinator.soak.SoakRequest.Protocol;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A chaos soak, start to end: the cluster up ({@link SoakCluster}); a reference run without faults
 * (every shape of the workload once over gRPC and once over HTTP: the two must agree, and give the
 * tokens every later request of that shape must get); a warm-up of the same load without faults
 * ({@link #warmUp}); the coordinators' heap; then for the soak's duration a bounded load ({@link
 * SoakLoad}) while {@link FaultInjector} kills and restarts nodes; the load drained, every node back;
 * the heap again; every node stopped; the logs scanned. The reference
 * comes from the cluster itself, before the first fault, rather than from a second engine in this
 * process: greedy decoding on the CPU backend is deterministic whatever the batch, so the one
 * difference between a reference request and a soak request is the faults, which is what the soak
 * is about, and the 2 cores stay with the nodes.
 */
public final class SoakRun {
  /** How long requests still outstanding when the load stops may take to complete. */
  static final Duration DRAIN = Duration.ofSeconds(120);
  /** Waiting for the agents of restarted daemons to take their places in the fleet again. */
  static final Duration WHOLE_FLEET = Duration.ofSeconds(60);
  /** Waiting for a full collection of an idle coordinator. */
  static final Duration HEAP_TIMEOUT = Duration.ofSeconds(60);
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(15);
  /** The longest load without faults before the heap's baseline (a quarter of a shorter soak). */
  static final Duration WARM_UP = Duration.ofSeconds(60);

  /**
   * The main classes of the two command lines the soak starts as processes ({@code coordinator} for
   * {@code serve}, {@code gpu-agent} for the daemons), given by the command line that runs the soak.
   */
  public record MainClasses(String coordinator, String daemon) {}

  private final SoakSettings settings;
  private final MainClasses mains;
  private final PrintStream out;
  private final List<String> problems = new ArrayList<>();
  private final String date = OffsetDateTime.now().withNano(0).toString();
  private final Phases phases = new Phases();

  private SoakRun(SoakSettings settings, MainClasses mains, PrintStream out) {
    this.settings = settings;
    this.mains = mains;
    this.out = out;
  }

  /**
   * Runs a soak and writes soak.json into the report folder; progress lines go to {@code out}. A soak
   * that stops on an error still writes soak.json, saying so ({@link SoakReport#writeStopped}), then
   * throws the error.
   */
  public static SoakResult run(SoakSettings settings, MainClasses mains, PrintStream out)
      throws IOException, InterruptedException {
    SoakRun soak = new SoakRun(settings, mains, out);
    Path file = settings.reportDir().resolve("soak.json");
    SoakResult result;
    try {
      result = soak.run();
    } catch (IOException | RuntimeException | InterruptedException e) {
      try {
        SoakReport.writeStopped(soak.date, settings, soak.phases.all(), soak.problems, e, file);
      } catch (IOException | RuntimeException unwritten) {
        e.addSuppressed(unwritten);
      }
      throw e;
    }
    SoakReport.write(result, file);
    return result;
  }

  /** Prints the summary of {@code result}; its exit code: 0 if every check passed, else 1. */
  public static int print(SoakResult result, PrintStream out) {
    SoakReport.print(result, out);
    return result.passed() ? 0 : 1;
  }

  private SoakResult run() throws IOException, InterruptedException {
    Path logs = settings.reportDir().resolve("logs");
    Files.createDirectories(logs);
    ActorSystem<Void> clients = ActorSystem.create(Behaviors.empty(), "soak-clients", ConfigFactory.parseString(
        "pekko.loglevel = WARNING\npekko.actor.provider = local").withFallback(ConfigFactory.load()));
    out.println("soak: starting " + settings.coordinators() + " coordinator(s) and " + settings.daemons()
        + " gpu-agent daemons (logs in " + logs + ")");
    try (SoakCluster cluster = SoakCluster.started(logs, mains, settings.coordinators(), settings.daemons(), out)) {
      phases.ended("start");
      List<Node> coordinators = cluster.coordinators();
      GrpcGenerate grpc = new GrpcGenerate(clients, coordinators.stream().map(c -> c.grpcPort).toList());
      HttpCompletions http = new HttpCompletions(coordinators.stream().map(c -> c.httpPort).toList());
      SoakWorkload workload = new SoakWorkload(settings.seed());
      out.println("soak: reference run: " + workload.shapes().size() + " shapes over gRPC and HTTP, no faults");
      Map<Integer, int[]> reference = reference(workload, grpc, http);
      phases.ended("reference");
      CoordinatorScrapes scrapes = new CoordinatorScrapes(cluster);
      FaultInjector injector = new FaultInjector(cluster, scrapes, settings.seed(), settings.faultInterval());
      Duration warmUp = warmUp(settings.duration());
      out.println("soak: warm-up: " + warmUp.toSeconds() + " s of load without faults");
      SoakLoad warm = new SoakLoad(grpc, http, coordinators.size(), settings.concurrency());
      long warmStart = System.nanoTime();
      drive(warm, workload, scrapes, injector, warmStart, warmStart + warmUp.toNanos());
      if (!warm.awaitIdle(DRAIN)) problems.add("warm-up requests were still outstanding " + DRAIN.toSeconds() + " s after it");
      warm.close();
      phases.ended("warm_up");
      Map<Long, Long> heapStart = heap(coordinators, scrapes);
      scrapes.baseline();
      phases.ended("heap_start");

      out.println("soak: " + settings.duration().toSeconds() + " s of load, a fault every "
          + settings.faultInterval().toSeconds() + " s");
      long start = System.nanoTime();
      long end = start + settings.duration().toNanos();
      Thread faults = new Thread(() -> {
        try {
          injector.run(start, end);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "soak-faults");
      faults.start();
      SoakLoad load = new SoakLoad(grpc, http, coordinators.size(), settings.concurrency());
      boolean gone = drive(load, workload, scrapes, injector, start, end);
      if (gone) {
        // Nothing can serve any more: stop now rather than retry into nothing until the end.
        problems.add(String.format("every coordinator exited on its own %.0f s into the load; the soak stopped there "
            + "(see logs/coordinator-*.err)", (System.nanoTime() - start) / 1e9));
        faults.interrupt();
        cluster.close(); // restarts under way fail at once
      }
      faults.join();
      phases.ended("load");
      out.println("soak: load stopped; waiting for outstanding requests, restarts and the whole fleet");
      Duration drain = gone ? Duration.ZERO : DRAIN;
      if (!load.awaitIdle(drain)) problems.add("requests were still outstanding " + drain.toSeconds() + " s after the load stopped");
      List<FaultInjector.Fault> injected = injector.awaitRestarts();
      load.close();
      int agentsUp = gone ? -1 : scrapes.awaitAgentsUp(settings.daemons(), WHOLE_FLEET);
      scrapes.refresh();
      phases.ended("drain");
      Map<Long, Long> heapEnd = heap(coordinators, scrapes);
      phases.ended("heap_end");
      grpc.close();
      out.println("soak: stopping the cluster");
      problems.addAll(cluster.stop());
      List<LogScan.StackTrace> traces = LogScan.scan(cluster.logs());
      phases.ended("stop");
      List<RequestRecord> records = new ArrayList<>(warm.records());
      records.addAll(load.records());
      SoakResult.Requests requests = RequestTally.of(records, reference, 2 * workload.shapes().size());
      SoakResult.FleetFigures fleet = new SoakResult.FleetFigures(
          scrapes.grown(s -> s.sample("decodefleet_migrations_total{kind=\"kv\"}").orElse(0)),
          scrapes.grown(s -> s.sample("decodefleet_migrations_total{kind=\"reprefill\"}").orElse(0)),
          scrapes.grown(s -> s.sum("decodefleet_replacements_total")),
          scrapes.grown(s -> s.sum("decodefleet_agents_lost_total")),
          scrapes.grown(s -> s.sum("vllm:request_success_total")), agentsUp);
      SoakResult.Heap heap = heap(coordinators, heapStart, heapEnd);
      List<SoakResult.Check> checks = SoakChecks.of(settings, requests, injected, fleet, heap, traces, problems);
      return new SoakResult(date, settings, phases.all(), requests, injected, injector.skipped(), fleet, heap, traces,
          List.copyOf(problems), checks);
    } finally {
      clients.terminate();
    }
  }

  /**
   * The warm-up before the heap's baseline: {@link #WARM_UP}, or a quarter of a shorter soak. A
   * coordinator's heap after GC keeps growing for a while under a new load without leaking: classes
   * and method handles of code paths met for the first time, and Pekko's caches of resolved actor
   * references (1024 entries per thread, each a path and a reference to a request's actor, long dead)
   * filling up (docs/reliability.md). Its requests are checked like the others.
   */
  static Duration warmUp(Duration duration) {
    Duration quarter = duration.dividedBy(4);
    return quarter.compareTo(WARM_UP) < 0 ? quarter : WARM_UP;
  }

  /** How long each part of the soak took, in order. */
  private static final class Phases {
    private final List<SoakResult.Phase> phases = new ArrayList<>();
    private long mark = System.nanoTime();

    void ended(String name) {
      long now = System.nanoTime();
      phases.add(new SoakResult.Phase(name, (now - mark) / 1e9));
      mark = now;
    }

    List<SoakResult.Phase> all() {
      return List.copyOf(phases);
    }
  }

  /**
   * Every shape once over each API, before any fault: the tokens each shape must give. A shape whose
   * two answers differ, or that did not complete, is a problem (and its requests cannot be checked).
   */
  private Map<Integer, int[]> reference(SoakWorkload workload, GrpcGenerate grpc, HttpCompletions http)
      throws InterruptedException {
    Map<Integer, int[]> tokens = new HashMap<>();
    try (SoakLoad load = new SoakLoad(grpc, http, settings.coordinators(), settings.concurrency())) {
      long id = -1;
      for (RequestShape shape : workload.shapes()) {
        for (Protocol p : Protocol.values()) {
          if (load.send(new SoakRequest(id--, shape, p), SoakCluster.START_TIMEOUT) == null) {
            problems.add("reference run: no request slot came free in " + SoakCluster.START_TIMEOUT.toSeconds() + " s");
          }
        }
      }
      load.awaitIdle(SoakCluster.START_TIMEOUT);
      for (RequestRecord r : load.records()) {
        RequestShape shape = r.request.shape();
        if (r.tokens() == null) {
          problems.add("reference run: shape " + shape.index() + " over " + r.request.protocol().label + " failed: " + r.failure());
        } else if (r.tokens().length != shape.maxTokens()) {
          problems.add("reference run: shape " + shape.index() + " over " + r.request.protocol().label + " gave "
              + r.tokens().length + " tokens, not " + shape.maxTokens());
        } else if (tokens.containsKey(shape.index()) && !java.util.Arrays.equals(tokens.get(shape.index()), r.tokens())) {
          problems.add("reference run: shape " + shape.index() + " gave different tokens over gRPC and HTTP");
        } else {
          tokens.put(shape.index(), r.tokens());
        }
      }
    }
    return tokens;
  }

  /**
   * Sends the workload's requests until {@code end}, as fast as the slots allow. A drawn request waits
   * for its slot (it is not redrawn), so a seed gives the same requests in the same order. Returns true
   * (early) when every coordinator process has exited without the soak stopping it.
   */
  private boolean drive(SoakLoad load, SoakWorkload workload, CoordinatorScrapes scrapes, FaultInjector injector,
      long start, long end) throws InterruptedException {
    SoakRequest next = workload.next();
    long nextProgress = start + PROGRESS_EVERY.toNanos();
    long nextScrape = start;
    while (System.nanoTime() < end) {
      if (load.send(next, Duration.ofMillis(200)) != null) next = workload.next();
      long now = System.nanoTime();
      if (now >= nextScrape) {
        scrapes.refresh(); // a coordinator about to be killed keeps its counts (also scraped just before)
        nextScrape = now + Duration.ofSeconds(5).toNanos();
      }
      if (now >= nextProgress) {
        List<RequestRecord> records = load.records();
        long completed = records.stream().filter(r -> r.tokens() != null).count();
        out.printf("soak: %3d s  %d requests sent, %d completed, %d retried%n", (now - start) / 1_000_000_000L,
            records.size(), completed, records.stream().filter(r -> r.attempts() > 1).count());
        nextProgress += PROGRESS_EVERY.toNanos();
      }
      if (injector.coordinatorsGone()) return true;
    }
    return false;
  }

  /** The live heap of every coordinator process that is up, by pid (-1: it could not be read). */
  private Map<Long, Long> heap(List<Node> coordinators, CoordinatorScrapes scrapes) throws InterruptedException {
    Map<Long, Long> bytes = new HashMap<>();
    for (Node c : coordinators) {
      ChildProcess p = c.process();
      if (!p.alive()) continue;
      OptionalLong live = HeapAfterGc.measure(scrapes.http(), c.httpPort, HEAP_TIMEOUT);
      bytes.put(p.pid(), live.orElse(-1));
      if (live.isEmpty()) {
        problems.add("the heap of " + p + " could not be read: no full collection within " + HEAP_TIMEOUT.toSeconds() + " s");
      }
    }
    return bytes;
  }

  /** The sums over the coordinators up at each end, and one figure per coordinator process. */
  private static SoakResult.Heap heap(List<Node> coordinators, Map<Long, Long> start, Map<Long, Long> end) {
    List<SoakResult.HeapFigure> figures = new ArrayList<>();
    for (Node c : coordinators) {
      for (ChildProcess p : c.incarnations()) {
        figures.add(new SoakResult.HeapFigure(p.label(), p.pid(), start.getOrDefault(p.pid(), -1L),
            end.getOrDefault(p.pid(), -1L)));
      }
    }
    return new SoakResult.Heap(sum(start), sum(end), figures);
  }

  /** The sum of the figures; -1 if one is missing (-1) or there is none. */
  private static long sum(Map<Long, Long> bytes) {
    if (bytes.isEmpty() || bytes.containsValue(-1L)) return -1;
    return bytes.values().stream().mapToLong(Long::longValue).sum();
  }

}
