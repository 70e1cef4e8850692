package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.simulation.HostCpuLoad;
import io.decodefleet.coordinator.simulation.HostSpeed;
import io.decodefleet.coordinator.simulation.RealComparison;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * {@code coordinator simulate --compare-real}: the same workload and seed on the embedded cluster, its
 * agents on the calibration's backend (CPU agents; CUDA agents on this machine's GPUs for a GPU's
 * calibration) — the normal run, through {@link BenchmarkSession}, after one unreported warm-up run at
 * the largest world size, {@code --real-runs} times (compared by their median) — then simulated with the
 * calibration, and the two side by side ({@link RealComparison}). Reports go to {@code <report-dir>/real}
 * (or {@code /real-1}, {@code /real-2}, … for several real runs) and {@code /simulated} (the warm-up's to
 * {@code /warm-up}), the table to {@code <report-dir>/comparison.md} and the console. With a CPU
 * calibration, two of its points are timed on this host before and after the real run ({@link
 * HostSpeed.OverRun}): the table says how this host's speed compared with the calibration's and whether
 * it held during the run, {@code host-speed.json} holds the figures, and {@code --scale-to-host} scales
 * the simulated steps by it. Exit 0 when both ran
 * every request (the targets are shown, not enforced: a shared machine's real timings vary), 1 when
 * either failed, 2 on bad arguments.
 */
final class SimulationComparisonRun {
  private final SimulateCommand command;
  private final SimulateCommand.Plan plan;

  SimulationComparisonRun(SimulateCommand command, SimulateCommand.Plan plan) {
    this.command = command;
    this.plan = plan;
  }

  int run() {
    String backend = plan.calibration().backend();
    if (!"cpu".equals(backend) && !"cuda".equals(backend)) {
      System.err.println("coordinator simulate: --compare-real runs the embedded cluster on CPU or CUDA agents, not "
          + "on the calibration's backend " + backend);
      return 2;
    }
    if (!plan.failures().isEmpty() || plan.layout() instanceof ParallelLayout.Disaggregated) {
      System.err.println("coordinator simulate: --compare-real compares dp, tp=K and ep=K runs without --fail-agent");
      return 2;
    }
    Path dir = command.report.reportDir != null ? command.report.reportDir
        : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    // A CPU calibration holds for its host and hour: time two of its points here before and after the
    // real run, so the table can say whether it compares the model or two hosts (or a host that changed).
    boolean timed = "cpu".equals(backend);
    if (command.scaleToHost && (!timed || plan.calibration().host() == null)) {
      System.err.println("coordinator simulate: --scale-to-host needs a CPU calibration with a host term; "
          + command.calibration + " has none");
      return 2;
    }
    Optional<HostSpeed> before = timed ? hostSpeed("before the real run") : Optional.empty();
    if (command.scaleToHost && before.isEmpty()) {
      System.err.println("coordinator simulate: --scale-to-host needs decode and prefill points in "
          + command.calibration + "'s single-device table");
      return 2;
    }
    command.say("DecodeFleet simulate --compare-real: the real run first, on the embedded cluster's "
        + backend.toUpperCase(java.util.Locale.ROOT) + " agents, after a warm-up run");
    // The JIT compiles the engine's loops in a JVM's first seconds, and the calibration was measured warm:
    // the workload runs once at the largest world size (the fleet the sweep loads), unreported, first.
    List<Integer> sizes = command.fleet.worldSizes;
    int size = command.fleet.worldSize;
    command.fleet.worldSizes = null;
    command.fleet.worldSize = java.util.Collections.max(plan.sizes());
    SweepReport warmUp = real(backend, dir.resolve("warm-up"));
    command.fleet.worldSizes = sizes;
    command.fleet.worldSize = size;
    if (warmUp == null) return 1;
    HostCpuLoad load = new HostCpuLoad();
    List<SweepReport> reals = new java.util.ArrayList<>();
    for (int i = 1; i <= command.realRuns; i++) {
      SweepReport real = real(backend, dir.resolve(command.realRuns == 1 ? "real" : "real-" + i));
      if (real == null) return 1;
      reals.add(real);
    }
    SweepReport real = reals.get(0);
    Double others = load.othersCores();
    Optional<HostSpeed.OverRun> speed = before.flatMap(b -> hostSpeed("after the real run").map(
        a -> new HostSpeed.OverRun(b, a)));
    SimulateCommand.Plan simulatedPlan = plan;
    if (command.scaleToHost) {
      double factor = speed.orElseThrow().slowdown();
      simulatedPlan = plan.withCalibration(plan.calibration().withHost(plan.calibration().host().slowedBy(factor,
          String.format(java.util.Locale.ROOT, "scaled by %.3f to the host's speed over the real run", factor)), null));
    }
    SweepReport simulated;
    try {
      simulated = command.simulate(simulatedPlan);
    } catch (IllegalArgumentException e) {
      System.err.println("coordinator simulate: " + e.getMessage());
      return 2;
    }
    int simulatedExit = new SweepOutput(quietIn(dir.resolve("simulated"))).writeAndPrint(simulated);
    RealComparison comparison = RealComparison.of(reals.stream().map(r -> r.withPercentiles(command.report.percentiles))
        .toList(), simulated.withPercentiles(command.report.percentiles));
    String table = "Real (embedded " + backend.toUpperCase(java.util.Locale.ROOT) + " cluster, " + real.hardware()
        + ") against simulated (" + plan.calibration().kind() + " calibration " + command.calibration
        + (command.scaleToHost ? String.format(java.util.Locale.ROOT, ", its steps scaled by %.2f to this host's "
            + "speed over the real run", speed.get().slowdown()) : "") + "), "
        + plan.requests().size() + " requests, seed " + command.fleet.seed + ":\n\n" + comparison.render()
        + (others == null ? "" : String.format(java.util.Locale.ROOT, "During the real %s other processes kept %.2f "
            + "of this host's %d cores busy (the simulated host had all of them).%n", reals.size() == 1 ? "run" : "runs",
            others,
            Runtime.getRuntime().availableProcessors()))
        + speed.map(h -> h.describe(command.calibration, command.scaleToHost) + "\n").orElse("");
    System.out.println();
    System.out.print(table);
    try {
      Files.writeString(dir.resolve("comparison.md"), table, StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("coordinator simulate: cannot write " + dir.resolve("comparison.md") + ": " + e.getMessage());
      return 1;
    }
    System.out.println("comparison: " + dir.resolve("comparison.md"));
    if (speed.isPresent()) {
      try {
        writeSpeed(speed.get(), dir.resolve("host-speed.json"));
      } catch (IOException e) {
        System.err.println("coordinator simulate: cannot write " + dir.resolve("host-speed.json") + ": " + e.getMessage());
        return 1;
      }
    }
    return simulatedExit;
  }

  private Optional<HostSpeed> hostSpeed(String when) {
    command.say("DecodeFleet simulate --compare-real: timing two of the calibration's points on this host " + when);
    return HostSpeed.measure(plan.calibration());
  }

  /**
   * The host's speed against the calibration's, as {@code host-speed.json}: both points before and after
   * the real run, each reading's slowdown, their mean and the drift between them.
   */
  private void writeSpeed(HostSpeed.OverRun h, Path file) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode o = json.createObjectNode();
    o.put("calibration", command.calibration);
    o.put("model", h.before().model());
    reading(o.putObject("before"), h.before());
    reading(o.putObject("after"), h.after());
    o.put("slowdown", h.slowdown());
    o.put("drift", h.drift());
    o.put("steady", h.steady());
    o.put("scaled", command.scaleToHost);
    Files.writeString(file, json.writeValueAsString(o) + "\n", StandardCharsets.UTF_8);
  }

  /** One reading of host-speed.json: both points, now and as calibrated, and the reading's slowdown. */
  private static void reading(ObjectNode r, HostSpeed reading) {
    r.putObject("decode").put("batch", reading.batch()).put("context", reading.context())
        .put("now_us", reading.decodeNowUs()).put("calibration_us", reading.decodeThenUs());
    r.putObject("prefill").put("tokens", reading.prefillTokens()).put("now_us", reading.prefillNowUs())
        .put("calibration_us", reading.prefillThenUs());
    r.put("slowdown", reading.slowdown());
  }

  /** The normal run of the same options on embedded agents; null (its line printed) when it failed. */
  private SweepReport real(String backend, Path dir) {
    return EmbeddedRun.run(backend, command.fleet, command.workload, command.engine, command.report, dir,
        "simulate --compare-real");
  }

  private ReportOptions quietIn(Path dir) {
    return EmbeddedRun.quietIn(dir, command.report);
  }
}
