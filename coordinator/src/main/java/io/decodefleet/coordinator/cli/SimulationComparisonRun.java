package io.decodefleet.coordinator.cli;

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
 * the largest world size — then simulated with the calibration, and the two side by side ({@link
 * RealComparison}). Reports go to {@code <report-dir>/real} and {@code /simulated} (the warm-up's to
 * {@code /warm-up}), the table to {@code <report-dir>/comparison.md} and the console. With a CPU
 * calibration, two of its points are first timed on this host ({@link HostSpeed}): the table says how
 * this host's speed compares with the calibration's, and {@code host-speed.json} holds the figures. Exit 0 when both ran
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
    // A CPU calibration holds for its host and hour: time two of its points here first, so the table
    // can say whether it compares the model or two hosts.
    Optional<HostSpeed> speed = Optional.empty();
    if ("cpu".equals(backend)) {
      command.say("DecodeFleet simulate --compare-real: timing two of the calibration's points on this host");
      speed = HostSpeed.measure(plan.calibration());
    }
    SimulateCommand.Plan simulatedPlan = plan;
    if (command.scaleToHost) {
      if (speed.isEmpty() || plan.calibration().host() == null) {
        System.err.println("coordinator simulate: --scale-to-host needs a CPU calibration with decode and prefill "
            + "points and a host term; " + command.calibration + " has not");
        return 2;
      }
      double factor = speed.get().slowdown();
      simulatedPlan = plan.withCalibration(plan.calibration().withHost(plan.calibration().host().slowedBy(factor,
          String.format(java.util.Locale.ROOT, "scaled by %.3f to the host's speed when compared", factor)), null));
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
    SweepReport real = real(backend, dir.resolve("real"));
    if (real == null) return 1;
    Double others = load.othersCores();
    SweepReport simulated;
    try {
      simulated = command.simulate(simulatedPlan);
    } catch (IllegalArgumentException e) {
      System.err.println("coordinator simulate: " + e.getMessage());
      return 2;
    }
    int simulatedExit = new SweepOutput(quietIn(dir.resolve("simulated"))).writeAndPrint(simulated);
    RealComparison comparison = RealComparison.of(real.withPercentiles(command.report.percentiles),
        simulated.withPercentiles(command.report.percentiles));
    String table = "Real (embedded " + backend.toUpperCase(java.util.Locale.ROOT) + " cluster, " + real.hardware()
        + ") against simulated (" + plan.calibration().kind() + " calibration " + command.calibration
        + (command.scaleToHost ? String.format(java.util.Locale.ROOT, ", its steps scaled by %.2f to this host's "
            + "speed now", speed.get().slowdown()) : "") + "), "
        + plan.requests().size() + " requests, seed " + command.fleet.seed + ":\n\n" + comparison.render()
        + (others == null ? "" : String.format(java.util.Locale.ROOT, "During the real run other processes kept %.2f "
            + "of this host's %d cores busy (the simulated host had all of them).%n", others,
            Runtime.getRuntime().availableProcessors()))
        + speed.map(h -> h.describe(command.calibration) + "\n").orElse("");
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

  /** The host's speed against the calibration's, as {@code host-speed.json}: both points, then and now. */
  private void writeSpeed(HostSpeed h, Path file) throws IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper()
        .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
    com.fasterxml.jackson.databind.node.ObjectNode o = json.createObjectNode();
    o.put("calibration", command.calibration);
    o.put("model", h.model());
    o.putObject("decode").put("batch", h.batch()).put("context", h.context()).put("now_us", h.decodeNowUs())
        .put("calibration_us", h.decodeThenUs());
    o.putObject("prefill").put("tokens", h.prefillTokens()).put("now_us", h.prefillNowUs())
        .put("calibration_us", h.prefillThenUs());
    o.put("slowdown", h.slowdown());
    o.put("within_tolerance", h.matches());
    Files.writeString(file, json.writeValueAsString(o) + "\n", StandardCharsets.UTF_8);
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
