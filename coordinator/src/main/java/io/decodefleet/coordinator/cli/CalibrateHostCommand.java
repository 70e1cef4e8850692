package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.EngineTotals;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.simulation.CalibrationFile;
import io.decodefleet.coordinator.simulation.FleetSimulation;
import io.decodefleet.coordinator.simulation.JvmCpuSampler;
import io.decodefleet.coordinator.simulation.SimulationSpec;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code coordinator calibrate-host}: measures what a CPU calibration cannot see from the step bench —
 * the embedded cluster's JVM around its engines — and writes it into the calibration's {@code host}:
 *
 * <ul>
 *   <li>{@code step_inflation}: the workload at world size 1, for real, against the same workload
 *       simulated with the bench's step times (the sum of the engine's step times over the sum of the
 *       simulated ones): what the cluster's JVM adds to a step when one agent has a core to itself;
 *   <li>{@code other_cpu} and {@code agent_cpu}: the workload at world sizes 2 and {@code --world-size},
 *       for real, with this JVM's CPU sampled while the engines were busy: the CPU of every thread but the
 *       engines' (cluster messaging, the coordinator, garbage collection, the JIT) solved as a part
 *       proportional to the engines' CPU and a part per agent node and second.
 * </ul>
 *
 * A warm-up run at {@code --world-size} goes first, unreported. Exit 0 when the calibration was written, 1
 * when a run failed, 2 on bad arguments.
 */
@Command(name = "calibrate-host", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures the embedded CPU cluster's JVM around its engines (a step's slowdown against the step "
        + "bench, the other threads' CPU per second of engine CPU) on real runs of the workload, and writes them into "
        + "a CPU calibration's host term for coordinator simulate.")
final class CalibrateHostCommand implements Callable<Integer> {

  @Option(names = "--calibration", paramLabel = "FILE|NAME", required = true,
      description = "The CPU calibration to complete (gpu-agent bench step --backend cpu --calibration-out).")
  String calibration;

  @Option(names = "--calibration-out", paramLabel = "FILE", required = true,
      description = "Where the calibration with its measured host term goes.")
  Path out;

  @Mixin
  FleetOptions fleet = new FleetOptions();

  @Mixin
  WorkloadOptions workload = new WorkloadOptions();

  @Mixin
  EngineOptions engine = new EngineOptions();

  @Option(names = "--report-dir", description = "Where the real runs' reports go (default: runs/calibrate-host).")
  Path reportDir = Path.of("runs", "calibrate-host");

  @Override
  public Integer call() {
    StepCalibration cal;
    List<RequestSpec> requests;
    ModelSpec model;
    int large;
    try {
      cal = CalibrationFile.load(calibration);
      if (cal.host() == null) {
        throw new UsageError("--calibration " + calibration + " has no host to share: calibrate-host measures CPU "
            + "agents");
      }
      if (fleet.worldSizes != null) throw new UsageError("--world-sizes does not apply: give --world-size N (> 2)");
      large = fleet.worldSize;
      if (large <= 2) throw new UsageError("--world-size must be > 2 (the runs are at 1, 2 and it), got " + large);
      model = engine.spec(fleet.seed, 0.0);
      // As the runs hold them: the model's context, then the agents' KV pool (the bench's, as simulated).
      LengthLimit context = WorkloadOptions.contextLimit(engine.config());
      requests = workload.onFleet(engine.config(), fleet.seed, workload.requests(engine.config(), fleet.seed, context),
          context, FleetSimulation.lengthLimit(context, cal, model, 1)).requests();
    } catch (UsageError | IllegalArgumentException e) {
      System.err.println("coordinator calibrate-host: " + e.getMessage());
      return 2;
    }
    if (measure(large, "warm-up") == null) return 1;
    // World size 1: the engine's steps in the cluster's JVM against the same workload simulated from the bench.
    JvmCpuSampler.Split alone = measure(1, "world-size-1");
    if (alone == null) return 1;
    StepCalibration bench = cal.withHost(new StepCalibration.HostSharing(cal.host().cores(), 0, 0, 1, ""), null);
    EngineTotals simulated = new FleetSimulation(new SimulationSpec(1, ParallelLayout.DATA_PARALLEL, model, requests,
        fleet.placement, workload.maxConcurrency, bench, null, List.of(), 0)).run(null).engine();
    double inflation = Math.max(1, stepSeconds(lastEngine) / stepSeconds(simulated));
    // World sizes 2 and N: the rest of the JVM's CPU as a part proportional to the engines' CPU and a part
    // per agent node and second, solved from the two runs.
    JvmCpuSampler.Split two = measure(2, "world-size-2");
    JvmCpuSampler.Split many = two == null ? null : measure(large, "world-size-" + large);
    if (many == null) return 1;
    double o2 = two.processSeconds() - two.engineSeconds();
    double on = many.processSeconds() - many.engineSeconds();
    double n2 = 2 * two.wallSeconds();
    double nn = large * many.wallSeconds();
    double det = two.engineSeconds() * nn - n2 * many.engineSeconds();
    double other = Math.max(0, (o2 * nn - n2 * on) / det);
    double agent = Math.min(cal.host().cores() * 0.9 / large, Math.max(0, (two.engineSeconds() * on
        - many.engineSeconds() * o2) / det));
    String measuredBy = String.format(Locale.ROOT, "coordinator calibrate-host at world sizes 1, 2 and %d, %d requests, "
        + "seed %d, %s", large, requests.size(), fleet.seed, LocalDate.now());
    StepCalibration.HostSharing host = new StepCalibration.HostSharing(cal.host().cores(), other, agent, inflation,
        measuredBy);
    String note = String.format(Locale.ROOT, "host: the JVM's threads besides the engines used %.2f s of CPU with the "
        + "engines' %.2f s in %.2f s at world size 2, %.2f s with %.2f s in %.2f s at world size %d: %.3f s per engine "
        + "second (other_cpu) and %.3f cores per agent node (agent_cpu); at world size 1 the engine's steps took %.3f x "
        + "the simulated ones (step_inflation)", o2, two.engineSeconds(), two.wallSeconds(), on, many.engineSeconds(),
        many.wallSeconds(), large, other, agent, inflation);
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(out, cal.withHost(host, note).toJson(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("coordinator calibrate-host: cannot write " + out + ": " + e.getMessage());
      return 1;
    }
    System.out.println(note);
    System.out.printf(Locale.ROOT, "the engines of a %d-agent cluster have %.2f of the %d cores between them; wrote %s%n",
        large, host.engineCores(large), host.cores(), out);
    return 0;
  }

  /** The engine totals of the last run {@link #measure} made. */
  private EngineTotals lastEngine;

  /** The workload for real at {@code size}, this JVM's CPU sampled; null when the run failed. */
  private JvmCpuSampler.Split measure(int size, String name) {
    fleet.worldSizes = null;
    fleet.worldSize = size;
    try (JvmCpuSampler sampler = new JvmCpuSampler()) {
      SweepReport report = EmbeddedRun.run("cpu", fleet, workload, engine, null, reportDir.resolve(name),
          "calibrate-host");
      if (report == null) return null;
      lastEngine = report.points().get(0).engine();
      return sampler.busyWindow();
    }
  }

  /** The sum of a run's step times, seconds. */
  private static double stepSeconds(EngineTotals e) {
    return e.reportedSteps() * e.meanStepMs() / 1e3;
  }
}
