package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.cli.GpuAgentCli;
import io.decodefleet.coordinator.soak.SoakResult;
import io.decodefleet.coordinator.soak.SoakRun;
import io.decodefleet.coordinator.soak.SoakSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code coordinator soak}: a chaos soak on this machine. Starts {@code coordinator serve} and
 * gpu-agent daemons as processes on loopback, sends requests over gRPC and HTTP while it kills and
 * restarts nodes, and checks that every request completed exactly once with the tokens of a run
 * without faults; exit 0 only if every check passed.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Chaos soak: serve + gpu-agent daemons as processes on this machine (CPU backend, model tiny), "
        + "a bounded load over gRPC and HTTP, daemons killed (SIGKILL / SIGTERM) and restarted every "
        + "--fault-interval, the active coordinator stopped once; checks that no request is "
        + "lost or duplicated and tokens match a run without faults; writes soak.json.")
final class SoakCommand implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

  @Option(names = "--duration", paramLabel = "TIME", description = "How long the load and the faults last, e.g. 90s, "
      + "2m, 30m, 1h, after a warm-up of a quarter of it (at most 1m) without faults (default: ${DEFAULT-VALUE}).")
  String duration = "2m";

  @Option(names = "--daemons", description = "gpu-agent daemons, one CPU agent each (default: ${DEFAULT-VALUE}).")
  int daemons = 4;

  @Option(names = "--coordinators", description = "coordinator serve nodes, 1 to 3: with 2 or 3 the active one is "
      + "killed (SIGKILL) once, past a third of --duration with every node up, and restarted (default: ${DEFAULT-VALUE}).")
  int coordinators = 2;

  @Option(names = "--fault-interval", paramLabel = "TIME", description = "Time between two faults "
      + "(default: ${DEFAULT-VALUE}).")
  String faultInterval = "15s";

  @Option(names = "--concurrency", description = "Most requests outstanding at once (default: ${DEFAULT-VALUE}).")
  int concurrency = 12;

  @Option(names = "--seed", description = "Seed of the prompts, lengths and APIs, and of which node is hit how "
      + "(default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--report-dir", description = "Where soak.json and every process's logs go "
      + "(default: runs/soak-<timestamp>).")
  Path reportDir;

  @Override
  public Integer call() {
    SoakSettings settings;
    try {
      settings = settings();
    } catch (UsageError e) {
      System.err.println("coordinator soak: " + e.getMessage());
      return 2;
    }
    try {
      SoakResult result = SoakRun.run(settings, new SoakRun.MainClasses(CoordinatorCli.class.getName(),
          GpuAgentCli.class.getName()), System.out);
      int code = SoakRun.print(result, System.out);
      System.out.println("soak.json: " + settings.reportDir().resolve("soak.json"));
      return code;
    } catch (IOException | RuntimeException e) {
      System.err.println("coordinator soak: stopped: " + e + " (soak.json: " + settings.reportDir().resolve("soak.json") + ")");
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("coordinator soak: interrupted");
      return 1;
    }
  }

  SoakSettings settings() {
    Duration length = duration("--duration", duration);
    Duration interval = duration("--fault-interval", faultInterval);
    if (daemons < 2) throw new UsageError("--daemons must be >= 2 (a fault never stops the last daemon up), got " + daemons);
    if (coordinators < 1 || coordinators > 3) throw new UsageError("--coordinators must be 1, 2 or 3, got " + coordinators);
    if (concurrency < 1) throw new UsageError("--concurrency must be >= 1, got " + concurrency);
    if (interval.toMillis() < 1000) throw new UsageError("--fault-interval must be at least 1s, got " + faultInterval);
    if (length.compareTo(interval) <= 0) {
      throw new UsageError("--duration (" + duration + ") must be longer than --fault-interval (" + faultInterval
          + "), or no fault is injected");
    }
    Path dir = reportDir != null ? reportDir
        : Path.of("runs", "soak-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    return new SoakSettings(length, daemons, coordinators, interval, concurrency, seed, dir);
  }

  /** "90s", "2m", "1h", "500ms"; a bare number is seconds. */
  static Duration duration(String option, String text) {
    Matcher m = DURATION.matcher(text == null ? "" : text.trim());
    if (!m.matches()) throw new UsageError(option + " must be a time such as 90s, 2m or 1h, got '" + text + "'");
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new UsageError(option + " is too large: '" + text + "'");
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }
}
