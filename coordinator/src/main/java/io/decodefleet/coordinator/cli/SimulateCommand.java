package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.SimulationDescription;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepPoint;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.node.HardwareDescription;
import io.decodefleet.coordinator.report.RuntimeVersions;
import io.decodefleet.coordinator.simulation.AgentFailure;
import io.decodefleet.coordinator.simulation.CalibrationFile;
import io.decodefleet.coordinator.simulation.FleetSimulation;
import io.decodefleet.coordinator.simulation.SimulationSpec;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code coordinator simulate}: the benchmark's workload, placement and engine scheduler on a
 * simulated fleet whose devices take a calibration's step times (coordinator.simulation), on a virtual
 * clock; the same reports as a real run, marked simulated. {@code --compare-real} also runs the
 * workload on the embedded cluster and prints the two side by side (SimulationComparisonRun).
 */
@Command(name = "simulate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Simulates the benchmark on a fleet of any size: the real workload, placement and engine "
        + "scheduler per agent, each device's steps timed by a calibration (gpu-agent bench step --calibration-out, "
        + "or a roofline projection), on a virtual clock. Writes the same reports as a run, marked simulated.",
        "Engine options that only a device uses (--backend, --gemm, --gpu-memory-fraction, --profile-steps, "
            + "--load-format, --quantization, --kv-cache-dtype) do not apply; --decode-path picks the calibration's "
            + "table. A mixture of experts needs a calibration of that model (ep=K: with an ep=K table); "
            + "--moe-router is refused."})
final class SimulateCommand implements Callable<Integer> {

  @Option(names = "--calibration", paramLabel = "FILE|NAME", required = true, description = "Step-time calibration of "
      + "the device: a file (gpu-agent bench step --calibration-out, gpu-agent bench roofline) or one that ships with "
      + "DecodeFleet: cpu-tiny, cpu-tiny-moe, h100-llama3-8b (measured), h200-llama3-8b-projection, "
      + "b200-llama3-8b-projection.")
  String calibration;

  @Mixin
  FleetOptions fleet = new FleetOptions();

  @Mixin
  WorkloadOptions workload = new WorkloadOptions();

  @Mixin
  EngineOptions engine = new EngineOptions();

  @Mixin
  ReportOptions report = new ReportOptions();

  @Option(names = "--fail-agent", paramLabel = "AGENT@T", description = "Lose this agent at this virtual time, "
      + "e.g. agent-3@12.5s or agent-3@800ms (repeatable): its step in flight never ends, and once the coordinator "
      + "notices (--failure-detection-ms) its sequences are re-placed with their tokens so far.")
  List<String> failAgents = new ArrayList<>();

  @Option(names = "--failure-detection-ms", description = "From an agent's loss to the coordinator's re-placing its "
      + "sequences, ms (default: ${DEFAULT-VALUE}: the cluster's failure detector marks a silent node unreachable "
      + "after its acceptable heartbeat pause of 3 s and a heartbeat interval).")
  double failureDetectionMs = 4000;

  @Option(names = "--compare-real", description = "Also run the same workload and seed for real on the embedded "
      + "cluster (the normal run; CPU agents for a CPU calibration, CUDA agents on this machine's GPUs for a GPU's) at "
      + "every world size, and print real against simulated (output tok/s, TTFT and TPOT p50/p99) with the "
      + "differences. Reports go to <report-dir>/real and /simulated.")
  boolean compareReal;

  @Option(names = "--scale-to-host", description = "With --compare-real and a CPU calibration: scale the "
      + "calibration's step times by this host's speed now against its own (two of its points timed here before the "
      + "real run, as the comparison always does), so that a host slower or faster today than on the calibration's "
      + "day compares the model rather than the two hosts. The table says it was scaled, and by how much.")
  boolean scaleToHost;

  @Option(names = "--real-runs", description = "With --compare-real: run the real side this many times (after the "
      + "one warm-up run) and compare the simulation with their median, the real runs' spread shown beside it "
      + "(default: ${DEFAULT-VALUE}). Reports go to <report-dir>/real-1, /real-2, ...")
  int realRuns = 1;

  @Spec
  CommandSpec spec;

  /**
   * What the options ask for, checked.
   *
   * @param workload the requests as a run on this fleet would keep them
   * @param limit what they were held to: the model's context and the simulated agents' KV pool
   */
  record Plan(List<Integer> sizes, ParallelLayout layout, ModelSpec model, Workload workload, LengthLimit limit,
      SloSpec slos, StepCalibration calibration, String decodePath, List<AgentFailure> failures) {
    List<RequestSpec> requests() {
      return workload.requests();
    }

    Plan withCalibration(StepCalibration other) {
      return new Plan(sizes, layout, model, workload, limit, slos, other, decodePath, failures);
    }
  }

  @Override
  public Integer call() {
    Plan plan;
    try {
      if (realRuns < 1) throw new UsageError("--real-runs must be >= 1, got " + realRuns);
      if (realRuns > 1 && !compareReal) throw new UsageError("--real-runs counts the real runs of --compare-real; "
          + "without --compare-real there are none");
      if (scaleToHost && !compareReal) throw new UsageError("--scale-to-host scales a calibration to the host that "
          + "--compare-real runs on; without --compare-real there is no such host");
      plan = plan();
    } catch (UsageError e) {
      System.err.println("coordinator simulate: " + e.getMessage());
      return 2;
    }
    if (compareReal) return new SimulationComparisonRun(this, plan).run();
    SweepReport simulated;
    try {
      simulated = simulate(plan);
    } catch (IllegalArgumentException e) {
      System.err.println("coordinator simulate: " + e.getMessage());
      return 2;
    }
    return new SweepOutput(report).writeAndPrint(simulated);
  }

  /** Every option checked; a UsageError's message is the one line the user sees. */
  Plan plan() {
    ParseResult parsed = spec.commandLine().getParseResult();
    // The calibration timed one device with one weight and KV format: options that change them do not apply.
    for (String notHere : List.of("--backend", "--gemm", "--gpu-memory-fraction", "--load-format", "--quantization",
        "--kv-cache-dtype")) {
      if (parsed.hasMatchedOption(notHere)) {
        throw new UsageError(notHere + " does not apply to a simulation (the calibration is the device)");
      }
    }
    if (engine.profileSteps != 0) throw new UsageError("--profile-steps does not apply to a simulation");
    List<Integer> sizes = fleet.sizes();
    fleet.placementPolicy();
    ParallelLayout layout = fleet.parallelLayout(sizes);
    // A calibration of a mixture of experts times its steps with the top-k router, whose routing of the
    // bench's tokens its tables hold (and for ep=K, its experts' placement): a capacity-bounded router
    // drops pairs, and so time, that no table records.
    if (parsed.hasMatchedOption("--moe-router")) {
      throw new UsageError("--moe-router does not apply to a simulation (calibrations time the top-k router)");
    }
    if (layout.parallelism() == Parallelism.EXPERT && !engine.config().isMoe()) {
      throw new UsageError("--layout " + layout.label() + " needs a mixture of experts, and --model "
          + engine.config().name() + " has none");
    }
    report.checkPercentiles();
    SloSpec slos = report.slos();
    report.checkExpectations();
    if (!(failureDetectionMs >= 0) || Double.isInfinite(failureDetectionMs)) {
      throw new UsageError("--failure-detection-ms must be >= 0, got " + failureDetectionMs);
    }
    List<AgentFailure> failures = new ArrayList<>();
    for (String f : failAgents) {
      try {
        failures.add(AgentFailure.parse(f));
      } catch (IllegalArgumentException e) {
        throw new UsageError("--fail-agent " + e.getMessage());
      }
    }
    for (AgentFailure f : failures) {
      int smallest = java.util.Collections.min(sizes) / layout.tensorParallel();
      if (f.index() >= smallest) {
        throw new UsageError("--fail-agent " + f + ": the fleet of " + java.util.Collections.min(sizes) + " GPUs has "
            + "agents agent-0 to agent-" + (smallest - 1));
      }
    }
    StepCalibration cal;
    try {
      cal = CalibrationFile.load(calibration);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--calibration " + e.getMessage());
    }
    ModelSpec model = engine.spec(fleet.seed, 0.0);
    if (!cal.model().equals(model.model())) {
      throw new UsageError("--calibration " + calibration + " is for model " + cal.model() + ", the run's --model is "
          + model.model());
    }
    // The table of the asked decode path; a calibration of one path (the CPU's) needs none.
    boolean expert = layout.parallelism() == Parallelism.EXPERT;
    String path = parsed.hasMatchedOption("--decode-path")
        || cal.decodePaths(expert, layout.tensorParallel()).size() > 1 ? engine.decodePath : null;
    if ("cpu".equals(cal.backend())) path = null;
    // The run's length rule: the model's context first, then the loaded fleet's KV pool (here the simulated one).
    LengthLimit context = WorkloadOptions.contextLimit(engine.config());
    Workload drawn = workload.requests(engine.config(), fleet.seed, context);
    LengthLimit limit = FleetSimulation.lengthLimit(context, cal, model, FleetSimulation.kvDevices(layout));
    Workload kept = workload.onFleet(engine.config(), fleet.seed, drawn, context, limit);
    return new Plan(sizes, layout, model, kept, limit, slos, cal, path, failures);
  }

  /** Simulates every world size of the plan into one report, printing progress unless --quiet. */
  SweepReport simulate(Plan plan) {
    String startedAt = java.time.OffsetDateTime.now().toString();
    String skipped = WorkloadOptions.skippedLine(plan.workload(), plan.limit());
    if (skipped != null) say(skipped);
    List<SweepPoint> points = new ArrayList<>();
    String table = "";
    String effective = "";
    for (int ws : plan.sizes()) {
      // CPU agents of one host: a sweep's cluster holds its largest fleet, as the embedded cluster does.
      int cluster = java.util.Collections.max(plan.sizes()) / plan.layout().tensorParallel();
      SimulationSpec run = new SimulationSpec(ws, plan.layout(), plan.model(), plan.requests(),
          fleet.placement, workload.maxConcurrency, plan.calibration(), plan.decodePath(), plan.failures(),
          Math.round(failureDetectionMs * 1e6), cluster);
      FleetSimulation sim = new FleetSimulation(run);
      table = sim.table();
      effective = sim.effectiveSettings();
      say("DecodeFleet simulate: world size " + ws + " (" + run.agents() + " agents, " + plan.layout().label() + "), "
          + plan.requests().size() + " requests, model " + plan.model().model() + ", " + plan.calibration().kind()
          + " calibration of " + plan.calibration().device());
      if (!sim.hostSharing().isEmpty()) say("  " + sim.hostSharing());
      long t0 = System.nanoTime();
      SweepPoint point = sim.run(report.quiet ? null : done -> say("  ... " + done + " of " + plan.requests().size()
          + " requests done"));
      say(String.format(Locale.ROOT, "  simulated %.1f s of fleet time in %.1f s (%d events)",
          point.result().durationSeconds(), (System.nanoTime() - t0) / 1e9, sim.eventsRun()));
      points.add(point);
    }
    StepCalibration cal = plan.calibration();
    SimulationDescription description = new SimulationDescription(calibration, cal.kind(), cal.device(),
        cal.date(), table, effective, plan.failures().stream().map(AgentFailure::toString).toList());
    List<String> args = spec.commandLine().getParseResult().originalArgs();
    // The whole command line when the coordinator's parsed it ("simulate ..."), else this command's own.
    String command = ("coordinator " + (args.isEmpty() || !args.get(0).equals("simulate") ? "simulate " : "")
        + String.join(" ", args)).trim();
    String hardware = "simulated " + cal.device() + " (" + cal.kind() + " calibration); simulated on "
        + HardwareDescription.describe();
    return new SweepReport(command, settings(plan), RuntimeVersions.current(), hardware, cal.backend(),
        plan.model().model(), startedAt, plan.slos(), points, null, null, description);
  }

  /** report.json's "settings", as a run's, plus the calibration and the agents lost. */
  private ObjectNode settings(Plan plan) {
    ObjectNode m = JsonNodeFactory.instance.objectNode();
    ArrayNode sizes = m.putArray("world_sizes");
    plan.sizes().forEach(sizes::add);
    m.put("model", plan.model().model());
    m.put("cluster", "simulated");
    workload.describe(m);
    m.put("overlength_skipped", plan.workload().skipped());
    m.put("placement", fleet.placement);
    m.put("seed", fleet.seed);
    m.put("block_size", plan.model().blockSize());
    m.put("kv_blocks", plan.model().kvBlocks());
    m.put("max_num_seqs", plan.model().maxNumSeqs());
    m.put("max_batched_tokens", plan.model().maxBatchedTokens());
    m.put("layout", plan.layout().label());
    m.put("calibration", calibration);
    if (plan.decodePath() != null) m.put("decode_path", plan.decodePath());
    ArrayNode failures = m.putArray("fail_agents");
    plan.failures().forEach(f -> failures.add(f.toString()));
    m.put("failure_detection_ms", failureDetectionMs);
    return m;
  }

  void say(String line) {
    if (!report.quiet) System.out.println(line);
  }
}
