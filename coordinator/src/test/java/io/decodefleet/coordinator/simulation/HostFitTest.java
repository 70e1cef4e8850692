package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostFitTest {
  private static final ModelSpec TINY = new ModelSpec("tiny", 0, 16, 0, 0, 0, 0.0, ModelSpec.PrefixCaching.AUTO);

  private static List<RequestSpec> requests() {
    List<RequestSpec> requests = new ArrayList<>();
    for (long id = 0; id < 24; id++) {
      int[] prompt = new int[40 + (int) (id * 7 % 120)];
      for (int i = 0; i < prompt.length; i++) prompt[i] = (int) ((id * 31 + i) % 1000);
      requests.add(new RequestSpec(id, 0, prompt, 4 + (int) (id % 9)));
    }
    return requests;
  }

  private static double seconds(StepCalibration cal, int agents) {
    return new FleetSimulation(new SimulationSpec(agents, ParallelLayout.DATA_PARALLEL, TINY, requests(),
        "least-loaded", 0, cal, null, List.of(), 0)).run(null).result().durationSeconds();
  }

  @Test
  void leastSquaresFindsTheThreeTermsOfRunsAtThreeWorldSizes() {
    // "Real" runs at 2, 4 and 8 agents on a host whose other threads take 0.1 of the engines' share, whose
    // agent nodes keep 0.05 of a core each busy and which spends 1500 µs per step: all three come back from
    // the runs' durations alone.
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    HostFit.SimulatedHost sim = (o, a, s, size) -> seconds(base.withHost(
        new StepCalibration.HostSharing(2, o, a, 1, "", s), null), size);
    List<HostFit.Run> runs = List.of(new HostFit.Run(2, sim.seconds(0.1, 0.05, 1500, 2)),
        new HostFit.Run(4, sim.seconds(0.1, 0.05, 1500, 4)), new HostFit.Run(8, sim.seconds(0.1, 0.05, 1500, 8)));
    HostFit.Terms t = HostFit.leastSquares(sim, runs, 2, 20_000);
    assertTrue(t.rmsLogError() < 0.01, "rms log error " + t.rmsLogError());
    for (HostFit.Run r : runs) {
      assertEquals(r.seconds(), sim.seconds(t.otherCpu(), t.agentCpu(), t.stepCpuMicros(), r.worldSize()),
          r.seconds() * 0.02, "world size " + r.worldSize());
    }
    // The engines' cores at each world size are what the runs had.
    StepCalibration.HostSharing truth = new StepCalibration.HostSharing(2, 0.1, 0.05, 1, "", 1500);
    StepCalibration.HostSharing fitted = HostFit.host(2, t, 1, "");
    for (int n : new int[] {2, 8}) assertEquals(truth.engineCores(n), fitted.engineCores(n), 0.06, "cores at " + n);
  }

  @Test
  void leastSquaresTakesTheCompromiseBetweenNoisyRuns() {
    // Runs of a host (other_cpu 0.3, 500 µs per step) each off by up to 10 %, two of them at world size 8 and
    // 18 % apart, as a busy host's repeated runs are: no terms match them all; the fit stays inside its
    // bounds and keeps every run within 15 %.
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    HostFit.SimulatedHost sim = (o, a, s, size) -> seconds(base.withHost(
        new StepCalibration.HostSharing(2, o, a, 1, "", s), null), size);
    List<HostFit.Run> runs = List.of(new HostFit.Run(2, sim.seconds(0.3, 0, 500, 2) * 0.9),
        new HostFit.Run(4, sim.seconds(0.3, 0, 500, 4) * 1.05), new HostFit.Run(8, sim.seconds(0.3, 0, 500, 8) * 1.1),
        new HostFit.Run(8, sim.seconds(0.3, 0, 500, 8) * 0.92));
    HostFit.Terms t = HostFit.leastSquares(sim, runs, 2, 2500);
    assertTrue(t.stepCpuMicros() < 2500 && t.rmsLogError() > 0.01 && t.rmsLogError() < 0.1, t.toString());
    for (HostFit.Run r : runs) {
      double s = sim.seconds(t.otherCpu(), t.agentCpu(), t.stepCpuMicros(), r.worldSize());
      assertTrue(Math.abs(Math.log(s / r.seconds())) < Math.log(1.15), "world size " + r.worldSize() + ": " + s
          + " s against " + r.seconds());
    }
  }
}
