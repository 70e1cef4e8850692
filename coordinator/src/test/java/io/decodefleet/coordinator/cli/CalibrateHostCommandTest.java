package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.coordinator.simulation.CalibrationFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coordinator calibrate-host} on the embedded CPU cluster: it writes a calibration whose host it measured. */
class CalibrateHostCommandTest {

  @Test
  void theHostTermIsMeasuredOnRealRunsAndWrittenBesideTheBenchsTables(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("cpu.json");
    assertEquals(0, CoordinatorCli.run("calibrate-host", "--calibration", "cpu-tiny", "--calibration-out",
        out.toString(), "--world-size", "3", "--num-requests", "6", "--prompt-len", "16:48", "--output-len", "4:12",
        "--seed", "5", "--report-dir", dir.resolve("runs").toString()));
    StepCalibration before = CalibrationFile.load("cpu-tiny");
    StepCalibration after = CalibrationFile.read(out);
    assertEquals(before.layouts(), after.layouts());
    StepCalibration.HostSharing host = after.host();
    assertEquals(before.host().cores(), host.cores());
    // Fitted, not counted, inside their bounds; nothing per agent node (every run had the same nodes).
    assertTrue(host.otherCpu() >= 0 && host.stepInflation() > 0 && host.stepCpuMicros() >= 0
        && host.stepCpuMicros() <= 20_000 && host.agentCpu() == 0,
        host.toString());
    assertTrue(host.engineCores(3) > 0.1 && host.engineCores(3) <= host.cores(), host.toString());
    assertTrue(host.measuredBy().startsWith("coordinator calibrate-host at world sizes 1, 2 and 3 (1 run(s) each), "
        + "6 requests, seed 5"),
        host.measuredBy());
    assertTrue(after.notes().get(after.notes().size() - 1).startsWith("host: "), after.notes().toString());
    for (String run : new String[] {"warm-up", "world-size-1", "sweep"}) {
      assertTrue(Files.isRegularFile(dir.resolve("runs").resolve(run).resolve("report.json")), run);
    }
  }

  @Test
  void aCalibrationWithoutAHostIsRefusedInOneLine(@TempDir Path dir) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(2, CoordinatorCli.run("calibrate-host", "--calibration", "h200-llama3-8b-projection",
          "--calibration-out", dir.resolve("x.json").toString(), "--model", "llama3-8b"));
    } finally {
      System.setErr(saved);
    }
    assertEquals("coordinator calibrate-host: --calibration h200-llama3-8b-projection has no host to share: "
        + "calibrate-host measures CPU agents\n", err.toString(StandardCharsets.UTF_8));
  }
}
