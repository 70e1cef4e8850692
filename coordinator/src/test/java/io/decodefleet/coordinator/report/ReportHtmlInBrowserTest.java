package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.coordinator.cli.CoordinatorCli;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html of a real two-point run (an embedded CPU cluster, through the CLI in process), opened
 * in headless Chromium (Debian's chromium package; the tests skip without it): the page draws every
 * chart without a console message, and its screenshot is not blank.
 */
class ReportHtmlInBrowserTest {

  @TempDir static Path dir;

  private static Path report;
  private static String page;

  @BeforeAll
  static void runASmallSweep() throws IOException {
    int code = CoordinatorCli.run("--world-sizes", "1,2", "--num-requests", "8", "--prompt-len", "8:40",
        "--output-len", "4:12", "--seed", "3", "--profile-steps", "3", "--report-dir", dir.resolve("run").toString(),
        "--quiet");
    assertEquals(0, code);
    report = dir.resolve("run/report.html");
    page = Files.readString(report, StandardCharsets.UTF_8);
  }

  /** The browser to open the page with: $DECODEFLEET_CHROMIUM, else the first of the usual names on PATH. */
  static String chromium() {
    String given = System.getenv("DECODEFLEET_CHROMIUM");
    if (given != null && !given.isBlank()) return given;
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) return Path.of(d, name).toString();
      }
    }
    return null;
  }

  private record Run(String out, String err) {}

  private static Run headless(String... flags) throws Exception {
    String browser = chromium();
    assumeTrue(browser != null, "no chromium on PATH (Debian: apt-get install chromium)");
    List<String> cmd = new ArrayList<>(List.of(browser, "--headless", "--disable-gpu", "--no-sandbox",
        "--user-data-dir=" + Files.createTempDirectory(dir, "profile"), "--virtual-time-budget=15000",
        "--enable-logging=stderr", "--v=0"));
    cmd.addAll(List.of(flags));
    cmd.add(report.toUri().toString());
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    p.getOutputStream().close();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 180 s: " + Files.readString(err));
    }
    return new Run(Files.readString(out), Files.readString(err));
  }

  @Test
  void thePageIsSelfContained() {
    assertFalse(Pattern.compile("<(script|link|img)[^>]+(src|href)=", Pattern.CASE_INSENSITIVE).matcher(page).find(),
        "nothing is loaded from elsewhere");
    // The library's licence comment names its home; nothing else names a URL.
    String rest = page.replace("https://github.com/leeoniya/uPlot", "");
    assertFalse(rest.contains("http://") || rest.contains("https://"), "no URL to fetch");
    assertTrue(page.contains("uPlot"), "the chart library is inlined");
    assertTrue(page.contains("\"profile\""), "the run's kernel-family profile is in the data");
  }

  @Test
  void everyChartDrawsWithoutAConsoleMessage() throws Exception {
    Run run = headless("--dump-dom");

    Matcher body = Pattern.compile("<body([^>]*)>").matcher(run.out());
    assertTrue(body.find(), run.out());
    String attributes = body.group(1);
    assertTrue(attributes.contains("data-status=\"ok\""), attributes);
    Matcher charts = Pattern.compile("data-charts=\"(\\d+)\"").matcher(attributes);
    assertTrue(charts.find(), attributes);
    // Throughput, four latency metrics, two request scatters, one step timeline per point (2),
    // one kernel-family chart per point (2).
    assertEquals(11, Integer.parseInt(charts.group(1)), attributes);
    assertEquals(11, count(run.out(), "class=\"uplot"), "one uPlot element per chart");
    List<String> console = run.err().lines().filter(l -> l.contains(":CONSOLE") || l.contains("Uncaught")).toList();
    assertEquals(List.of(), console, "the page writes nothing to the console");
  }

  @Test
  void theScreenshotIsNotBlank() throws Exception {
    Path shot = dir.resolve("report.png");
    headless("--window-size=1100,3000", "--screenshot=" + shot, "--hide-scrollbars");

    BufferedImage image = ImageIO.read(shot.toFile());
    assertNotNull(image, "chromium wrote no readable PNG");
    double sum = 0;
    double squares = 0;
    int n = 0;
    java.util.Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 3) {
      for (int x = 0; x < image.getWidth(); x += 3) {
        int rgb = image.getRGB(x, y);
        colours.add(rgb & 0xffffff);
        double luma = 0.299 * (rgb >> 16 & 0xff) + 0.587 * (rgb >> 8 & 0xff) + 0.114 * (rgb & 0xff);
        sum += luma;
        squares += luma * luma;
        n++;
      }
    }
    double mean = sum / n;
    double variance = squares / n - mean * mean;
    assertTrue(variance > 100, "luma variance " + variance + ": the page looks blank");
    assertTrue(colours.size() > 50, colours.size() + " colours: the charts' series colours are missing");
  }

  private static int count(String text, String needle) {
    int c = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) c++;
    return c;
  }
}
