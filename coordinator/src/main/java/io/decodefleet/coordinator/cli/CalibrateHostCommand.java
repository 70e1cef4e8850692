package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.simulation.CalibrationFile;
import io.decodefleet.coordinator.simulation.FleetSimulation;
import io.decodefleet.coordinator.simulation.HostCpuLoad;
import io.decodefleet.coordinator.simulation.HostFit;
import io.decodefleet.coordinator.simulation.JvmCpuSampler;
import io.decodefleet.coordinator.simulation.SimulationSpec;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
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
 *       simulated ones): what the cluster's JVM does to a step when one agent has a core to itself
 *       (below 1 when the bench was timed while something else ran);
 *   <li>{@code other_cpu} and {@code step_cpu_us}: the workload at world sizes 2, half of {@code
 *       --world-size} (where that is above 2) and {@code --world-size}, for real, as a sweep in one cluster of
 *       {@code --world-size} agents (as a sweep and {@code simulate --compare-real} run), {@code --repeats}
 *       times: the busy engines' share of the cores and the CPU the JVM's other threads spend on each step,
 *       fitted so that the simulated runs take as long as the real ones in the least-squares sense ({@link
 *       HostFit#leastSquares}; {@code agent_cpu} 0, every run having the same agent nodes).
 * </ul>
 *
 * A warm-up run at {@code --world-size} goes first, unreported. Exit 0 when the calibration was written, 1
 * when a run failed, 2 on bad arguments.
 */
@Command(name = "calibrate-host", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures the embedded CPU cluster's JVM around its engines (a step's time against the step "
        + "bench's, the cores the busy engines have between them, the other threads' CPU per step) on real runs of the "
        + "workload at world sizes 1, 2, half of --world-size and --world-size, and writes them into a CPU calibration's host term for "
        + "coordinator simulate.")
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

  @Option(names = "--repeats", paramLabel = "N", description = "Real runs at each fitted world size (default: 1); "
      + "more average a noisy host's run-to-run spread into the fit.")
  int repeats = 1;

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
      if (repeats < 1 || repeats > 20) throw new UsageError("--repeats must be in 1..20, got " + repeats);
      model = engine.spec(fleet.seed, 0.0);
      // As the runs hold them: the model's context, then the agents' KV pool (the bench's, as simulated).
      LengthLimit context = WorkloadOptions.contextLimit(engine.config());
      requests = workload.onFleet(engine.config(), fleet.seed, workload.requests(engine.config(), fleet.seed, context),
          context, FleetSimulation.lengthLimit(context, cal, model, 1)).requests();
    } catch (UsageError | IllegalArgumentException e) {
      System.err.println("coordinator calibrate-host: " + e.getMessage());
      return 2;
    }
    if (measure(List.of(large), "warm-up") == null) return 1;
    // World size 1: the engine's steps in the cluster's JVM against the same workload simulated from the bench.
    HostCpuLoad load = new HostCpuLoad();
    if (measure(List.of(1), "world-size-1") == null) return 1;
    double realAlone = HostFit.stepSeconds(lastSweep.points().get(0).engine());
    StepCalibration bench = cal.withHost(new StepCalibration.HostSharing(cal.host().cores(), 0, 0, 1, ""), null);
    double inflation = realAlone / HostFit.stepSeconds(simulate(bench, model, requests, 1, 1).engine());
    // World sizes 2, N/2 and N as a sweep in one cluster of N (as a sweep up to N runs), --repeats times: the host
    // terms that bring the simulated runs' durations closest to the real ones (least squares over the runs).
    List<HostFit.Run> runs = new ArrayList<>();
    JvmCpuSampler.Split many = null;
    for (int r = 0; r < repeats; r++) {
      JvmCpuSampler.Split split = measure(fitSizes(large), "sweep" + (repeats > 1 ? "-run-" + (r + 1) : ""));
      if (split == null) return 1;
      many = split;
      for (var point : lastSweep.points()) runs.add(new HostFit.Run(point.worldSize(), point.result().durationSeconds()));
    }
    Double others = load.othersCores();
    int cores = cal.host().cores();
    HostFit.Terms fit = HostFit.leastSquares((o, a, s, size) -> simulate(cal.withHost(
        new StepCalibration.HostSharing(cores, o, a, inflation, "", s), null), model, requests, size, large)
        .result().durationSeconds(), runs, cores, MAX_STEP_CPU_MICROS, large);
    String measuredBy = String.format(Locale.ROOT, "coordinator calibrate-host at world sizes 1, %s (%d run(s) "
        + "each), %d requests, seed %d, %s", sizesText(large), repeats, requests.size(), fleet.seed, LocalDate.now());
    StepCalibration.HostSharing host = HostFit.host(cores, fit, inflation, measuredBy);
    StringBuilder durations = new StringBuilder();
    for (HostFit.Run r : runs) {
      durations.append(String.format(Locale.ROOT, "%s%.2f s at %d", durations.length() == 0 ? "" : ", ", r.seconds(),
          r.worldSize()));
    }
    String note = String.format(Locale.ROOT, "host: at world size 1 the engine's steps took %.3f x the bench's "
        + "(step_inflation, %.2f s against %.2f s); the runs took %s: least squares over them gives other_cpu %.3f, "
        + "agent_cpu %.4f and step_cpu_us %.0f (the busy engines have %.2f of the %d cores at world size 2 and %.2f at "
        + "%d; the simulated runs are off by %.1f %% rms); at world size %d the JVM's other threads (messaging, the "
        + "coordinator, the JIT, garbage collection) used %.2f cores", inflation, realAlone, realAlone / inflation,
        durations, fit.otherCpu(), fit.agentCpu(), fit.stepCpuMicros(), host.engineCores(2), cores,
        host.engineCores(large), large, 100 * (Math.exp(fit.rmsLogError()) - 1), large,
        (many.processSeconds() - many.engineSeconds()) / many.wallSeconds()) + (others == null ? ""
            : String.format(Locale.ROOT, "; other processes kept %.2f of the host's cores busy during the runs", others));
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(out, cal.withHost(host, note).toJson(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("coordinator calibrate-host: cannot write " + out + ": " + e.getMessage());
      return 1;
    }
    System.out.println(note);
    System.out.printf(Locale.ROOT, "the busy engines have %.2f of the %d cores between them, each step costing the "
        + "other threads %.0f us; wrote %s%n", host.engineCores(large), host.cores(), host.stepCpuMicros(), out);
    return 0;
  }

  /** The world sizes the host terms are fitted to: 2, half of {@code large} where that is between, and it. */
  static List<Integer> fitSizes(int large) {
    return large / 2 > 2 ? List.of(2, large / 2, large) : List.of(2, large);
  }

  private static String sizesText(int large) {
    List<Integer> sizes = fitSizes(large);
    return sizes.size() == 3 ? sizes.get(0) + ", " + sizes.get(1) + " and " + sizes.get(2)
        : sizes.get(0) + " and " + sizes.get(1);
  }

  /** The largest per-step CPU of the other threads the fit tries, µs (a step report's handling is well below). */
  private static final double MAX_STEP_CPU_MICROS = 20_000;

  /** The workload simulated on {@code size} agents with {@code cal}, in a cluster of {@code clusterAgents}. */
  private io.decodefleet.coordinator.metrics.SweepPoint simulate(StepCalibration cal, ModelSpec model,
      List<RequestSpec> requests, int size, int clusterAgents) {
    return new FleetSimulation(new SimulationSpec(size, ParallelLayout.DATA_PARALLEL, model, requests,
        fleet.placement, workload.maxConcurrency, cal, null, List.of(), 0, clusterAgents)).run(null);
  }

  /** The sweep of the last {@link #measure}. */
  private SweepReport lastSweep;

  /**
   * The workload for real at each of {@code sizes} in one cluster of the largest, this JVM's CPU sampled;
   * null when the run failed.
   */
  private JvmCpuSampler.Split measure(List<Integer> sizes, String name) {
    fleet.worldSizes = sizes;
    try (JvmCpuSampler sampler = new JvmCpuSampler()) {
      lastSweep = EmbeddedRun.run("cpu", fleet, workload, engine, null, reportDir.resolve(name), "calibrate-host");
      return lastSweep == null ? null : sampler.busyWindow();
    } finally {
      fleet.worldSizes = null;
    }
  }
}
