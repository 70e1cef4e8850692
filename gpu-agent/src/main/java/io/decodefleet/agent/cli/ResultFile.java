package io.decodefleet.agent.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the device tools write their JSON results: UTF-8, parent folders created. */
final class ResultFile {
  private ResultFile() {}

  /**
   * The command line of {@code spec}'s run: its own arguments after "gpu-agent bench NAME", or the whole
   * line when the gpu-agent command line parsed it.
   */
  static String commandLine(picocli.CommandLine.Model.CommandSpec spec) {
    java.util.List<String> args = spec.commandLine().getParseResult().originalArgs();
    String own = "gpu-agent bench " + spec.name();
    return (args.isEmpty() || !args.get(0).equals("bench") ? own + " " : "gpu-agent ") + String.join(" ", args);
  }

  static void write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
