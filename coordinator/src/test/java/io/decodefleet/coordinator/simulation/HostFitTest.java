package io.decodefleet.coordinator.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

  private static double stepSeconds(StepCalibration cal, int agents) {
    return HostFit.stepSeconds(new FleetSimulation(new SimulationSpec(agents, ParallelLayout.DATA_PARALLEL, TINY,
        requests(), "least-loaded", 0, cal, null, List.of(), 0)).run(null).engine());
  }

  @Test
  void theFitFindsTheCoresARunsEnginesHad() {
    // A "real" run of 4 agents whose engines had 1.3 of 2 cores (the rest of the host took 0.7); the fit
    // sees only its engines' step time and finds the 1.3 again.
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    double real = stepSeconds(base.withHost(HostFit.host(2, 1.3, 1, ""), null), 4);
    double fitted = HostFit.engineCores(c -> stepSeconds(base.withHost(HostFit.host(2, c, 1, ""), null), 4), real, 2);
    assertEquals(1.3, fitted, 1e-3);
    assertEquals(1.3, HostFit.host(2, fitted, 1, "").engineCores(8), 1e-3);
  }

  @Test
  void twoRunsGiveTheCoresAndTheOtherThreadsCostPerStep() {
    // "Real" runs at 2 and 4 agents on a host whose engines have 1.4 cores and whose other threads spend 3000
    // µs on each step: fitted from the two runs' step times alone, both come back.
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    HostFit.Simulated sim = (c, s, size) -> stepSeconds(base.withHost(HostFit.host(2, new HostFit.Fit(c, s), 1, ""),
        null), size);
    HostFit.Fit fit = HostFit.fit(sim, 2, sim.seconds(1.4, 3000, 2), 4, sim.seconds(1.4, 3000, 4), 2, 20_000);
    assertEquals(1.4, fit.engineCores(), 0.01);
    assertEquals(3000, fit.stepCpuMicros(), 30);
    // Without a per-step cost in the runs, none is found.
    HostFit.Fit none = HostFit.fit(sim, 2, sim.seconds(1.4, 0, 2), 4, sim.seconds(1.4, 0, 4), 2, 20_000);
    assertEquals(1.4, none.engineCores(), 0.01);
    assertEquals(0, none.stepCpuMicros(), 30);
  }

  @Test
  void aRunFasterThanEveryEngineAtFullSpeedHasAllTheCores() {
    StepCalibration base = Calibrations.roundNumbers(2, 0);
    double alone = stepSeconds(base.withHost(HostFit.host(2, 2, 1, ""), null), 4);
    assertEquals(2.0, HostFit.engineCores(c -> stepSeconds(base.withHost(HostFit.host(2, c, 1, ""), null), 4),
        alone * 0.8, 2));
  }
}
