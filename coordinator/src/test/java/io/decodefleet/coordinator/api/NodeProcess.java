package io.decodefleet.coordinator.api;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A DecodeFleet node as a real OS process, launched from the module's built artifacts
 * (target/classes + target/lib, the classpath bin/coordinator and bin/gpu-agent use). Its stdout and
 * stderr are read line by line, together ({@link #output}) and stderr apart ({@link #errors}).
 */
final class NodeProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final List<String> errLines = new ArrayList<>();
  private final List<Thread> readers = new ArrayList<>();

  private NodeProcess(String name, Process process) {
    this.name = name;
    this.process = process;
    read(process.getInputStream(), "output-" + name, false);
    read(process.getErrorStream(), "errors-" + name, true);
  }

  /** Every line goes to the output (in arrival order); stderr's lines to the errors too. */
  private void read(java.io.InputStream in, String thread, boolean errors) {
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (lines) {
            lines.add(line);
            if (errors) errLines.add(line);
            lines.notifyAll();
          }
        }
      } catch (IOException e) {
        // the process is gone
      }
    }, thread);
    reader.setDaemon(true);
    reader.start();
    readers.add(reader);
  }

  static NodeProcess start(String name, String mainClass, String... args) throws IOException {
    String cp = Path.of("target", "classes").toAbsolutePath() + java.io.File.pathSeparator
        + Path.of("target", "lib").toAbsolutePath() + java.io.File.separator + "*";
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", cp, mainClass));
    cmd.addAll(List.of(args));
    return new NodeProcess(name, new ProcessBuilder(cmd).start());
  }

  /** Waits for an output line matching {@code p} and returns it. */
  String awaitLine(Predicate<String> p, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      int seen = 0;
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (p.test(lines.get(seen))) return lines.get(seen);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !process.isAlive() && seen == lines.size()) {
          throw new AssertionError(name + ": no such line within " + timeout + "; output:\n" + String.join("\n", lines));
        }
        lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, 200_000_000L))));
      }
    }
  }

  String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  /** What it wrote on stderr, line by line, once it has exited (see {@link #awaitExit}). */
  List<String> errors() {
    synchronized (lines) {
      return List.copyOf(errLines);
    }
  }

  /** Waits for the process to exit by itself and for its output to be read; returns its exit code. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " did not exit within " + timeout + "; output:\n" + output());
    }
    for (Thread t : readers) t.join(5_000);
    return process.exitValue();
  }

  /** SIGKILL: the node vanishes without a word. */
  void kill() {
    process.destroyForcibly();
  }

  /** SIGSTOP: the node freezes, alive but unreachable (its sockets stay open, nothing answers). */
  void freeze() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT: a frozen node runs again. */
  void thaw() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM: the node drains and leaves; returns its exit code. */
  int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " did not exit within " + timeout + " of SIGTERM; output:\n" + output());
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
