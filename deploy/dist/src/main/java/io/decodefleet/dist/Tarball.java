package io.decodefleet.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * {@code tar | xz} of the staging folder. GNU tar keeps the file modes (launchers and runtime/bin/*
 * executable) and, with {@code --sort=name} and root ownership, gives the same member order and owners
 * on every machine. xz runs multi-threaded: each thread compresses its own block of 3 × the preset's
 * dictionary (24 MiB at -6), so threads cost a little ratio and save most of the time.
 */
final class Tarball {

  private Tarball() {}

  /**
   * Packs {@code parent/top} into {@code out}, which appears only once complete.
   *
   * @param preset xz preset, 0..9 (dictionary 8 MiB at 6, 64 MiB at 9)
   * @param threads xz threads, ≥ 1, or 0 for one per core; 2 threads or more give the same bytes
   */
  static void write(Path parent, String top, Path out, int preset, int threads) throws IOException {
    if (preset < 0 || preset > 9) {
      throw new IllegalArgumentException("--xz-preset must be 0..9, got " + preset);
    }
    if (threads < 0) {
      throw new IllegalArgumentException("--xz-threads must be >= 0 (0: one per core), got " + threads);
    }
    Path tar = ExternalCommand.require("tar", "pack the distribution");
    Path xz = ExternalCommand.require("xz", "compress the distribution");
    Path partial = out.resolveSibling(out.getFileName() + ".part");
    Files.createDirectories(out.toAbsolutePath().getParent());
    List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
        new ProcessBuilder(tar.toString(), "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
            "-C", parent.toString(), "-cf", "-", top)
            .redirectError(ProcessBuilder.Redirect.INHERIT),
        new ProcessBuilder(xz.toString(), "-" + preset, "-T" + threads, "-c")
            .redirectOutput(partial.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)));
    int tarStatus = ExternalCommand.waitFor(pipeline.get(0));
    int xzStatus = ExternalCommand.waitFor(pipeline.get(1));
    if (tarStatus != 0 || xzStatus != 0) {
      Files.deleteIfExists(partial);
      throw new IllegalStateException("tar | xz of " + parent.resolve(top) + " failed: tar exited with "
          + tarStatus + ", xz with " + xzStatus);
    }
    Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
