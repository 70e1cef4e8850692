package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --profile-steps on an embedded CPU fleet, end to end: report.json's "profile" and the console table. */
class ProfileStepsTest {

  @Test
  void aRunWithProfileStepsReportsEveryFamilyAndTheyAddUpToTheStep(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    int code;
    System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
    try {
      code = CoordinatorCli.run("--world-size", "2", "--num-requests", "8", "--prompt-len", "8:40", "--output-len",
          "8:16", "--seed", "4", "--profile-steps", "3", "--report-dir", dir.toString());
    } finally {
      System.setOut(stdout);
    }
    assertEquals(0, code);

    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    assertEquals(3, report.get("settings").get("profile_steps").asInt());
    JsonNode profile = report.get("points").get(0).get("profile");
    assertEquals("cpu", profile.get("backend").asText());
    assertEquals(6, profile.get("steps").asInt(), "three decode steps on each of the two agents");
    double step = profile.get("step_ms").asDouble();
    double families = 0;
    JsonNode lines = profile.get("families");
    assertEquals(KernelFamily.ALL.size(), lines.size());
    for (JsonNode f : lines) {
      double ms = f.get("ms_per_step").asDouble();
      families += ms;
      assertEquals(ms / step, f.get("share").asDouble(), 1e-9, f.toString());
      if (f.get("family").asText().equals("all_reduce")) {
        assertEquals(0.0, ms, "data-parallel agents: no all-reduce");
        assertTrue(f.get("floor_ms").isNull());
      } else {
        assertTrue(ms > 0, f.toString());
        assertTrue(f.get("floor_ms").asDouble() > 0, f.toString());
      }
    }
    assertEquals(families, profile.get("families_ms").asDouble(), 1e-9);
    // The families are timed inside the step, so they never exceed it, and they hold most of it. How
    // much host work falls between them varies with the machine's load (a step of ~2 ms on two busy
    // cores): the bound is loose on purpose, this is not a speed test.
    assertTrue(families <= step && families >= 0.75 * step,
        "families " + families + " ms within the measured step " + step + " ms and most of it");
    assertEquals(step - families, profile.get("untimed_ms").asDouble(), 1e-9);

    String out = console.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains(" Decode step by kernel family "), out);
    assertTrue(out.contains("6 profiled steps on cpu"), out);
    assertTrue(out.lines().anyMatch(l -> l.startsWith("gate_up_proj ")), out);
    assertFalse(out.lines().anyMatch(l -> l.startsWith("all_reduce ")), "a family no step ran is left out: " + out);
  }
}
