package io.decodefleet.dist;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A program the packer runs (jlink, strip, tar, xz): found on disk or on PATH, checked exit status. */
final class ExternalCommand {

  private ExternalCommand() {}

  /** The executable {@code name} on PATH, if any. */
  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The executable {@code name} on PATH, or an exception naming it and why the packer needs it. */
  static Path require(String name, String purpose) {
    return onPath(name).orElseThrow(() -> new IllegalStateException(
        name + " is not on PATH; the distribution needs it to " + purpose));
  }

  /** Runs {@code command} to completion; its output goes into the message if it fails. */
  static void run(List<String> command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    int status = waitFor(process);
    if (status != 0) {
      throw new IllegalStateException(Path.of(command.get(0)).getFileName() + " exited with " + status
          + (output.isEmpty() ? "" : ": " + output.replace('\n', ' ')));
    }
  }

  static int waitFor(Process process) {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + process.info().command().orElse("a command"));
    }
  }
}
