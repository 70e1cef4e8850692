package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.LocalDevices;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.EngineTotals;
import io.decodefleet.coordinator.metrics.KvTransferSummary;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.metrics.VerificationSummary;
import io.decodefleet.coordinator.node.ClusterHandle;
import io.decodefleet.coordinator.node.CoordinatorNode;
import io.decodefleet.coordinator.node.EmbeddedCluster;
import io.decodefleet.coordinator.observability.CoordinatorMetrics;
import io.decodefleet.coordinator.node.HardwareDescription;
import io.decodefleet.coordinator.report.RuntimeVersions;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.run.RunProgress;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.Workload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One invocation of {@code coordinator}: start (or join) the cluster, load the model on the largest
 * world size of the sweep, run the same workload at every world size, then write and print the report.
 */
final class BenchmarkSession {
  private static final Duration RUN_TIMEOUT = Duration.ofHours(24);

  private final CoordinatorCli cli;
  private final List<Integer> worldSizes;
  private final ModelSpec model;
  /** The workload as checked against the model's context alone; redrawn if the fleet's KV pools hold less. */
  private final Workload drawn;
  private final LengthLimit context;
  private final SloSpec slos;
  private final ParallelLayout layout;

  /** @param context what {@code drawn} was checked against: the model's context */
  BenchmarkSession(CoordinatorCli cli, List<Integer> worldSizes, ModelSpec model, Workload drawn, LengthLimit context,
      SloSpec slos, ParallelLayout layout) {
    this.cli = cli;
    this.worldSizes = worldSizes;
    this.model = model;
    this.drawn = drawn;
    this.context = context;
    this.slos = slos;
    this.layout = layout;
  }

  /** The layout the session loads its fleet in. */
  ParallelLayout layout() {
    return layout;
  }

  /** The sweep's report, or, when it could not run, the exit code (its one line already printed). */
  record Measured(SweepReport report, int exitCode) {
    static Measured failed(int exitCode) {
      return new Measured(null, exitCode);
    }
  }

  /** Runs the sweep, writes and prints its report; the exit code. */
  int run() {
    Measured m = measure();
    return m.report() == null ? m.exitCode() : new SweepOutput(cli.report).writeAndPrint(m.report());
  }

  /** Starts the cluster, loads the fleet and runs the workload at every world size. */
  Measured measure() {
    int largest = Collections.max(worldSizes);
    String startedAt = java.time.OffsetDateTime.now().toString();
    Duration agentTimeout = Duration.ofSeconds(cli.cluster.agentTimeoutSeconds);
    LocalDevices.Choice devices;
    try {
      devices = cli.cluster.embedded() ? cli.engine.embeddedBackend(largest) : null;
      if (devices != null && layout.agents() > 0 && !devices.cuda()) {
        throw new UsageError("--layout " + layout.label() + " needs CUDA agents (the KV moves over NCCL), but the "
            + "embedded agents would run on the CPU (" + devices.reason() + ")");
      }
      if (layout instanceof ParallelLayout.ExpertParallel ep) {
        io.decodefleet.agent.engine.tp.ExpertShard.unsplittable(io.decodefleet.agent.engine.ModelConfig.resolve(
            model.model()), ep.size()).ifPresent(why -> {
              throw new UsageError("--layout " + ep.label() + ": " + why);
            });
      }
    } catch (UsageError e) {
      System.err.println("coordinator: " + e.getMessage());
      return Measured.failed(2);
    }
    if (devices != null && layout.agents() > 0 && !io.decodefleet.agent.nccl.Nccl.isAvailable()) {
      System.err.println("coordinator: --layout " + layout.label() + ": " + io.decodefleet.agent.nccl.Nccl
          .unavailabilityCause());
      return Measured.failed(1);
    }
    int k = layout.tensorParallel();
    int largestAgents = largest / k;
    String perAgent = k > 1 ? " agents of " + k + " devices each (" + (layout.parallelism()
        == io.decodefleet.agent.engine.tp.Parallelism.EXPERT ? "expert" : "tensor") + "-parallel)" : " agents";
    say(cli.cluster.embedded()
        ? "DecodeFleet: embedded cluster of " + largestAgents + " " + devices.backend().toUpperCase(java.util.Locale.ROOT)
            + perAgent + ", model " + model.model() + "; " + devices.describe()
        : "DecodeFleet: joining the cluster through " + cli.cluster.describe() + ", waiting for " + largestAgents
            + perAgent);
    if (cli.cluster.tls.enabled()) say("DecodeFleet: the cluster's nodes talk " + cli.cluster.tls.describe());
    List<SweepPoint> points = new ArrayList<>();
    Workload workload;
    String backend;
    List<String> agentDevices;
    CoordinatorMetrics metrics = new CoordinatorMetrics();
    try (ClusterHandle cluster = cli.cluster.embedded()
        ? EmbeddedCluster.start(largestAgents, cli.cluster.tls.config(),
            i -> devices.groupSlot("agent-" + i, i, k, layout.parallelism(), cli.engine.cudaSettings(),
                CpuBackend.DEFAULT_KV_BYTES), metrics)
        : CoordinatorNode.start(cli.cluster.bind, cli.cluster.clusterPort, cli.cluster.seedNodes,
            cli.cluster.managementPort, cli.cluster.kubernetes, metrics, cli.cluster.tls)) {
      if (cli.cluster.metricsPort >= 0) {
        // Stops with the cluster's system, when the run is over.
        var binding = metrics.serve(cluster.system(), cli.cluster.bind, cli.cluster.metricsPort);
        say("DecodeFleet: metrics on http://" + cli.cluster.bind + ":" + binding.localAddress().getPort() + "/metrics");
      }
      Coordinator.FleetStatus status = ask(cluster, replyTo -> new Coordinator.LoadFleet(largestAgents, model,
          agentTimeout,
          layout, replyTo), agentTimeout.multipliedBy(layout.agents() > 0 ? 2 : 1).plusSeconds(10));
      if (status instanceof Coordinator.FleetFailed failed) {
        System.err.println("coordinator: " + failed.reason());
        return Measured.failed(1);
      }
      ClusterSnapshot state = ((Coordinator.FleetReady) status).state();
      try {
        workload = onFleet(state);
      } catch (UsageError e) {
        System.err.println("coordinator: " + e.getMessage());
        return Measured.failed(2);
      }
      backend = state.agents().isEmpty() ? "cpu" : state.agents().get(0).backend();
      agentDevices = state.agents().stream().filter(AgentSnapshot::loaded).map(AgentSnapshot::device)
          .distinct().toList();
      for (int ws : worldSizes) {
        RunOutcome outcome = runPoint(cluster, ws, agentTimeout, workload.requests());
        if (outcome.error() != null) {
          System.err.println("coordinator: world size " + ws + ": " + outcome.error());
          return Measured.failed(1);
        }
        points.add(SweepPoint.of(ws, outcome.result(), outcome.requests(), outcome.engine(), outcome.verification(),
            outcome.agents()));
      }
    } catch (io.decodefleet.agent.PortBinding.Unavailable e) {
      System.err.println("coordinator: " + e.getMessage());
      return Measured.failed(2);
    } catch (Exception e) {
      System.err.println("coordinator: the run did not complete: " + e);
      return Measured.failed(1);
    }
    SweepReport report = new SweepReport(("coordinator " + String.join(" ", cli.originalArgs)).trim(),
        settings(workload), RuntimeVersions.current(), hardware(backend, agentDevices), backend, model.model(),
        startedAt, slos, points);
    return new Measured(report, 0);
  }

  /** The coordinator's host, plus the agents' devices when they are GPUs. */
  private static String hardware(String backend, List<String> devices) {
    String host = HardwareDescription.describe();
    return "cuda".equals(backend) ? host + "; agents on " + String.join(", ", devices) : host;
  }

  /**
   * The workload the loaded fleet runs: every request must also fit the largest agent's KV pool
   * (WorkloadOptions.onFleet), a request over it a UsageError or, with --on-overlength skip, left out.
   */
  private Workload onFleet(ClusterSnapshot state) {
    LengthLimit limit = state.lengthLimit(context);
    Workload workload = cli.workload.onFleet(cli.engine.config(), cli.fleet.seed, drawn, context, limit);
    String skipped = WorkloadOptions.skippedLine(workload, limit);
    if (skipped != null) say(skipped);
    return workload;
  }

  private RunOutcome runPoint(ClusterHandle cluster, int ws, Duration agentTimeout, List<RequestSpec> requests)
      throws Exception {
    // World sizes count GPUs; a tensor-parallel replica (one agent) spans K of them.
    BenchmarkSpec spec = new BenchmarkSpec(ws / layout.tensorParallel(), model, requests, cli.fleet.placement,
        cli.workload.maxConcurrency,
        agentTimeout, layout);
    ProgressDisplay display = !cli.report.quiet && ProgressDisplay.wanted() ? new ProgressDisplay(ws, requests.size()) : null;
    ActorRef<RunProgress> progress = display == null ? null
        : cluster.system().systemActorOf(display.behavior(), "progress-" + ws, Props.empty());
    try {
      return ask(cluster, replyTo -> new Coordinator.RunBenchmark(spec, progress, replyTo), RUN_TIMEOUT);
    } finally {
      if (display != null) display.close();
    }
  }

  private static <T> T ask(ClusterHandle cluster,
      org.apache.pekko.japi.function.Function<ActorRef<T>, Coordinator.Command> message, Duration timeout)
      throws Exception {
    return AskPattern.<Coordinator.Command, T>ask(cluster.coordinator(), message, timeout, cluster.system().scheduler())
        .toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One line of engine totals: steps, mean step time, step time by batch bucket, preemptions, migrations. */
  static String describeEngine(EngineTotals e) {
    StringBuilder b = new StringBuilder("Engine: ").append(e.reportedSteps()).append(" steps, mean ")
        .append(String.format("%.2f", e.meanStepMs())).append(" ms");
    if (!e.stepTimeByBatch().isEmpty()) {
      b.append("; by batch bucket:");
      for (EngineTotals.BatchBucketSteps line : e.stepTimeByBatch()) {
        b.append(' ').append(line.batchBucket()).append(": ").append(String.format("%.2f", line.meanStepMs()))
            .append(" ms (").append(line.steps()).append(')');
      }
    }
    if (!e.stepsByPath().isEmpty()) b.append("; steps by path ").append(e.stepsByPath());
    appendMicros(b, "host per step", e.meanHostUsPerStep());
    appendMicros(b, "GPU per step", e.meanGpuUsPerStep());
    appendMicros(b, "GPU idle gap", e.meanGpuIdleGapUs());
    b.append("; preemptions ").append(e.preemptions()).append(", migrations ").append(e.migrations())
        .append(", agents lost ").append(e.agentsLost());
    if (e.prefixQueriedTokens() > 0) {
      b.append(String.format("; prefix cache hit rate %.1f%% (%d of %d prompt tokens, %d admissions deferred for a"
          + " prefix in flight)", 100 * e.prefixHitRate(), e.prefixHitTokens(), e.prefixQueriedTokens(),
          e.prefixDeferredAdmissions()));
    }
    // A data-parallel fleet's group moves only drained agents' sequences: said when it moved some.
    KvTransferSummary kv = e.kvTransfers();
    if (kv != null && (!"dp".equals(kv.layout()) || kv.count() > 0)) {
      b.append("; ").append(describeTransfers(kv));
    }
    return b.toString();
  }

  /** {@code KV transfers (disagg=1:1, eager): 128, mean 0.210 ms (p50 .., p99 ..), 321.5 GB/s, 64.0 MiB each, ...}. */
  static String describeTransfers(KvTransferSummary kv) {
    StringBuilder b = new StringBuilder("KV transfers (").append(kv.layout()).append(", ").append(kv.mode())
        .append("): ").append(kv.count());
    if (kv.count() > 0) {
      b.append(String.format(Locale.ROOT, ", mean %.3f ms (p50 %.3f, p99 %.3f)", kv.meanMs(), kv.p50Ms(), kv.p99Ms()));
      if (kv.gbPerS() != null) b.append(String.format(Locale.ROOT, ", %.1f GB/s", kv.gbPerS()));
      b.append(String.format(Locale.ROOT, ", %.1f MiB each, hand-off mean %.2f ms (p99 %.2f)",
          kv.meanBytes() / 1048576.0, kv.meanHandoffMs(), kv.p99HandoffMs()));
      if (kv.recomputed() > 0) b.append(", re-prefilled ").append(kv.recomputed());
      if (kv.migrations() > 0) b.append(", ").append(kv.migrations()).append(" moved off drained agents");
    }
    if (!"ready".equals(kv.group())) b.append(", group ").append(kv.group());
    return b.toString();
  }

  private static void appendMicros(StringBuilder b, String label, Double value) {
    if (value != null) b.append("; ").append(label).append(' ').append(String.format("%.1f", value)).append(" us");
  }

  static String describeVerification(VerificationSummary v) {
    return (v.passed() ? "passed" : "FAILED") + " (" + v.sequencesChecked()
        + " sequences checked against a full recompute, max relative logit error " + v.maxRelError()
        + ", tolerance " + v.tolerance() + ", failures " + v.failures() + ")";
  }

  /** report.json's "settings", in the file's field order. */
  private ObjectNode settings(Workload workload) {
    ObjectNode m = JsonNodeFactory.instance.objectNode();
    ArrayNode sizes = m.putArray("world_sizes");
    worldSizes.forEach(sizes::add);
    m.put("model", model.model());
    m.put("cluster", cli.cluster.describe());
    cli.workload.describe(m);
    m.put("overlength_skipped", workload.skipped());
    m.put("placement", cli.fleet.placement);
    m.put("seed", cli.fleet.seed);
    m.put("block_size", model.blockSize());
    m.put("kv_blocks", model.kvBlocks());
    m.put("max_num_seqs", model.maxNumSeqs());
    m.put("max_batched_tokens", model.maxBatchedTokens());
    m.put("verify_fraction", model.verifyFraction());
    if (model.profileSteps() > 0) m.put("profile_steps", model.profileSteps());
    if (layout instanceof ParallelLayout.Disaggregated d) {
      m.put("layout", d.label());
      m.put("kv_transfer", d.transfer().label());
    } else if (layout instanceof ParallelLayout.TensorParallel tp) {
      m.put("layout", tp.label());
      m.put("tensor_parallel", tp.size());
    } else if (layout instanceof ParallelLayout.ExpertParallel ep) {
      m.put("layout", ep.label());
      m.put("expert_parallel", ep.size());
    }
    return m;
  }

  private void say(String line) {
    if (!cli.report.quiet) System.out.println(line);
  }
}
