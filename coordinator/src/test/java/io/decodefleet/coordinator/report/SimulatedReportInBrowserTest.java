package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.coordinator.cli.CoordinatorCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A simulated sweep's report.html, opened in headless Chromium, says so above everything else. */
class SimulatedReportInBrowserTest {

  @Test
  void theSimulatedPageShowsItsBannerAndDrawsWithoutAConsoleMessage(@TempDir Path dir) throws Exception {
    String browser = ReportHtmlInBrowserTest.chromium();
    assumeTrue(browser != null, "no chromium on PATH (Debian: apt-get install chromium)");
    assertEquals(0, CoordinatorCli.run("simulate", "--calibration", "h200-llama3-8b-projection", "--model",
        "llama3-8b", "--world-sizes", "2,4", "--num-requests", "64", "--fail-agent", "agent-1@200ms", "--report-dir",
        dir.resolve("run").toString(), "--quiet"));
    Path out = dir.resolve("dom.html");
    Path err = dir.resolve("err.txt");
    Process p = new ProcessBuilder(browser, "--headless", "--disable-gpu", "--no-sandbox",
        "--user-data-dir=" + Files.createTempDirectory(dir, "profile"), "--virtual-time-budget=15000",
        "--enable-logging=stderr", "--v=0", "--dump-dom", dir.resolve("run/report.html").toUri().toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    p.getOutputStream().close();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "chromium did not finish in 180 s");
    String dom = Files.readString(out);
    assertTrue(dom.contains("data-status=\"ok\""), dom.substring(0, Math.min(400, dom.length())));
    assertTrue(dom.contains("<title>SIMULATED (projection)"), "the title says simulated, from a projection");
    assertTrue(dom.matches("(?s).*<p id=\"simulated\" class=\"simulated\">SIMULATED from a PROJECTION: step times "
        + "from the projection calibration h200-llama3-8b-projection .*Agents lost: agent-1@0.200s\\..*"), "the banner");
    List<String> console = Files.readAllLines(err).stream().filter(l -> l.contains(":CONSOLE") || l.contains("Uncaught"))
        .toList();
    assertEquals(List.of(), console, "the page writes nothing to the console");
  }
}
