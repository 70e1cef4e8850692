package io.decodefleet.dist;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fills {@code lib/} from the coordinator's runtime classpath: every jar re-stored (see
 * {@link StoredJar}), JCuda's natives jar cut down to the driver library.
 */
final class DistributionJars {

  /** What went into lib/: jar count and bytes before (as resolved) and after (stored, slimmed). */
  record Staged(int jars, long sourceBytes, long stagedBytes, boolean slimmedJcudaNatives) {}

  private DistributionJars() {}

  /**
   * Reads a classpath file (one line, entries separated by the path separator, as written by
   * {@code dependency:build-classpath}) and stages its jars into {@code lib}.
   */
  static Staged stage(Path classpathFile, Path lib) throws IOException {
    if (!Files.isRegularFile(classpathFile)) {
      throw new IllegalStateException("classpath file " + classpathFile + " is missing");
    }
    List<Path> jars = new ArrayList<>();
    for (String entry : Files.readString(classpathFile).trim().split(File.pathSeparator)) {
      if (entry.isBlank()) {
        continue;
      }
      Path jar = Path.of(entry);
      if (!Files.isRegularFile(jar) || !entry.endsWith(".jar")) {
        throw new IllegalStateException(classpathFile + ": " + entry
            + " is not a jar file (package the upstream modules first)");
      }
      jars.add(jar);
    }
    if (jars.isEmpty()) {
      throw new IllegalStateException(classpathFile + " lists no jars");
    }
    Files.createDirectories(lib);
    long sourceBytes = 0;
    long stagedBytes = 0;
    boolean slimmed = false;
    for (Path jar : jars) {
      String name = jar.getFileName().toString();
      Path target = lib.resolve(name);
      if (Files.exists(target)) {
        throw new IllegalStateException(classpathFile + ": two jars named " + name);
      }
      if (JcudaNatives.isNativesJar(name)) {
        JcudaNatives.slim(jar, target);
        slimmed = true;
      } else if (TokenizerNatives.isTokenizersJar(name)) {
        TokenizerNatives.slim(jar, target);
      } else {
        StoredJar.copy(jar, target, entry -> true);
      }
      sourceBytes += Files.size(jar);
      stagedBytes += Files.size(target);
    }
    return new Staged(jars.size(), sourceBytes, stagedBytes, slimmed);
  }
}
