package io.decodefleet.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gpu-agent daemon in its own JVM, started as the image starts it: the main class the distribution's
 * bin/gpu-agent launcher runs, the container's JAVA_OPTS, arguments and environment, on this module's
 * test classpath (the same jars as the distribution's lib/). Output goes to a log file for diagnosis.
 */
final class AgentDaemonProcess implements AutoCloseable {
  private static final Pattern LAUNCHER_MAIN = Pattern.compile("-cp \"\\$home/lib/\\*\" (\\S+)");

  private final Process process;
  private final Path log;
  private volatile boolean terminated;

  private AgentDaemonProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * @param container the container's resolved command line and environment
   * @param extraEnv what the pod has beyond the manifest (KUBERNETES_SERVICE_HOST/PORT, set by the kubelet)
   * @param systemProperties JVM properties standing in for the pod's surroundings (service account files, DNS)
   */
  static AgentDaemonProcess start(ContainerCommandLine container, Map<String, String> extraEnv,
      List<String> systemProperties, Path log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String javaOpts = container.env().getOrDefault("JAVA_OPTS", "").strip();
    if (!javaOpts.isEmpty()) command.addAll(List.of(javaOpts.split("\\s+")));
    // Test-harness limits for a small shared machine; they change the JVM's footprint, not its behaviour.
    command.addAll(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    command.addAll(systemProperties);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass()));
    command.addAll(container.args());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("DECODEFLEET_") || k.startsWith("KUBERNETES_")
        || k.equals("JAVA_OPTS") || k.equals("JAVA_TOOL_OPTIONS"));
    builder.environment().putAll(container.env());
    builder.environment().putAll(extraEnv);
    return new AgentDaemonProcess(builder.start(), log);
  }

  /** The main class the launcher execs: the image runs this, so the test runs it too. */
  static String mainClass() throws IOException {
    Path launcher = DeploySources.launchers().resolve(ContainerCommandLine.Application.GPU_AGENT.launcher);
    Matcher m = LAUNCHER_MAIN.matcher(Files.readString(launcher));
    if (!m.find()) throw new IllegalStateException(launcher + ": cannot find the main class it runs");
    return m.group(1);
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Exited without being told to. */
  boolean crashed() {
    return !terminated && !process.isAlive();
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM, as the kubelet sends it. */
  void terminate() {
    terminated = true;
    process.destroy();
  }

  /** Waits for a terminated daemon to exit; kills it if it does not within the time. */
  int awaitExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      return -1;
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
      awaitExit(20);
    }
  }
}
