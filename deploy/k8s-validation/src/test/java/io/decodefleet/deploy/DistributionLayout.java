package io.decodefleet.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The paths of the distribution under its top folder {@code decodefleet-<version>/}, each with whether
 * it is executable: read from a built tarball, or (before one is built) the layout deploy/dist
 * assembles from its sources: {@code runtime/} (with {@code bin/java}), {@code lib/}, and
 * {@code bin/<launcher>} for each file of src/main/dist/bin.
 */
final class DistributionLayout {
  private final String top;
  /** Relative path (no trailing '/') → executable. Directories are present as their own entries. */
  private final Map<String, Boolean> entries;

  private DistributionLayout(String top, Map<String, Boolean> entries) {
    this.top = top;
    this.entries = Map.copyOf(entries);
  }

  static String topFolder() {
    return "decodefleet-" + DeploySources.version();
  }

  static DistributionLayout fromSources() {
    Map<String, Boolean> entries = new HashMap<>();
    for (String dir : Set.of("runtime", "runtime/bin", "lib", "bin")) entries.put(dir, true);
    entries.put("runtime/bin/java", true);
    try (Stream<Path> launchers = Files.list(DeploySources.launchers())) {
      launchers.forEach(l -> entries.put("bin/" + l.getFileName(), true));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new DistributionLayout(topFolder(), entries);
  }

  /** Lists the tarball with tar(1) ("-tvJf": mode, owner, size, date, time, path). */
  static DistributionLayout fromTarball(Path tarball) throws IOException, InterruptedException {
    Process tar = new ProcessBuilder("tar", "-tvJf", tarball.toString()).start();
    String listing = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(tar.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!tar.waitFor(120, TimeUnit.SECONDS) || tar.exitValue() != 0) {
      throw new IllegalStateException("tar -tvJf " + tarball + " failed: " + err.strip());
    }
    String top = null;
    Map<String, Boolean> entries = new HashMap<>();
    for (String line : listing.split("\n")) {
      if (line.isBlank()) continue;
      String[] fields = line.trim().split("\\s+", 6);
      if (fields.length < 6) throw new IllegalStateException(tarball + ": cannot read listing line " + line);
      String path = fields[5].endsWith("/") ? fields[5].substring(0, fields[5].length() - 1) : fields[5];
      int slash = path.indexOf('/');
      String first = slash < 0 ? path : path.substring(0, slash);
      if (top == null) top = first;
      if (!top.equals(first)) throw new IllegalStateException(tarball + ": more than one top folder: " + top + ", " + first);
      if (slash >= 0) entries.put(path.substring(slash + 1), fields[0].startsWith("d") || fields[0].charAt(3) == 'x');
    }
    return new DistributionLayout(top, entries);
  }

  String top() {
    return top;
  }

  boolean contains(String relative) {
    return entries.containsKey(strip(relative));
  }

  boolean executable(String relative) {
    return Boolean.TRUE.equals(entries.get(strip(relative)));
  }

  Set<String> paths() {
    return entries.keySet();
  }

  private static String strip(String relative) {
    String r = relative.startsWith("./") ? relative.substring(2) : relative;
    return r.endsWith("/") ? r.substring(0, r.length() - 1) : r;
  }
}
