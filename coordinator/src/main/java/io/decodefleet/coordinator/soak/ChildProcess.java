package io.decodefleet.coordinator.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One DecodeFleet node as a real OS process: the JVM that runs this one (its {@code java} binary and
 * class path, so the soak runs from the distribution and from a build alike) started on {@code
 * mainClass}, its stdout and stderr each written to a file of the report folder. Every start of a
 * node is a new incarnation with files of its own ({@code <name>.<n>.out} / {@code .err}), so the
 * log of a killed process stays as it was when it died.
 */
final class ChildProcess {
  private final String name;
  private final int incarnation;
  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private ChildProcess(String name, int incarnation, Process process, Path stdout, Path stderr) {
    this.name = name;
    this.incarnation = incarnation;
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /**
   * Starts {@code mainClass} with {@code jvmOptions} and {@code args}.
   *
   * @param incarnation 1 for the first start of this node, then 2, 3, … for its restarts
   */
  static ChildProcess start(String name, int incarnation, Path logDir, List<String> jvmOptions, String mainClass,
      List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    Files.createDirectories(logDir);
    Path out = logDir.resolve(name + "." + incarnation + ".out");
    Path err = logDir.resolve(name + "." + incarnation + ".err");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    return new ChildProcess(name, incarnation, p, out, err);
  }

  /** The java binary of this JVM (the jlink runtime's in the distribution). */
  private static String javaBinary() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** The node and which start of it this is, e.g. {@code daemon-2#3}. */
  String label() {
    return name + "#" + incarnation;
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  Path stdout() {
    return stdout;
  }

  Path stderr() {
    return stderr;
  }

  /**
   * Waits until a line of its stdout matches {@code p}; returns it. Fails (with the end of both logs)
   * when the process exits first or {@code timeout} passes.
   */
  String awaitLine(Predicate<String> p, Duration timeout) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean exited = !process.isAlive();
      for (String line : lines(stdout)) {
        if (p.test(line)) return line;
      }
      if (exited) throw new IOException(label() + " exited with code " + process.exitValue() + " before it was ready; " + tail());
      if (System.nanoTime() > deadline) throw new IOException(label() + " was not ready within " + timeout.toSeconds() + " s; " + tail());
      Thread.sleep(100);
    }
  }

  /** The exit code of a process that has exited. */
  int exitCode() {
    return process.exitValue();
  }

  /** SIGKILL: the node vanishes without a word. */
  void kill() {
    process.destroyForcibly();
  }

  /** SIGTERM: the node drains and leaves. */
  void terminate() {
    process.destroy();
  }

  /** Waits for the process to exit; its exit code, or empty if it still runs after {@code timeout}. */
  OptionalInt awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return OptionalInt.empty();
    return OptionalInt.of(process.exitValue());
  }

  /** The last lines of its stdout and stderr, for a failure message. */
  String tail() {
    return "stdout " + stdout + ": " + lastLines(stdout) + " | stderr " + stderr + ": " + lastLines(stderr);
  }

  private static String lastLines(Path file) {
    try {
      List<String> lines = lines(file);
      return String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  /**
   * The lines of a log as they are now, bytes that are not UTF-8 replaced: a process may be in the
   * middle of writing a character, or may have been killed there.
   */
  static List<String> lines(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
  }

  @Override
  public String toString() {
    return label() + " (pid " + process.pid() + ")";
  }
}
