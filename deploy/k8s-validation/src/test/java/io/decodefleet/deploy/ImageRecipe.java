package io.decodefleet.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a DecodeFleet Dockerfile does with the distribution: its first stage ADDs (and so unpacks) the
 * tarball and moves the top folder to a fixed home; the final stage copies paths of that home and
 * starts a launcher from it. Built from the parsed Dockerfile, failing with the line that does not fit.
 *
 * @param home where the unpack stage puts the top folder (e.g. /opt/decodefleet)
 * @param copied distribution-relative paths the final stage copies from the unpack stage
 * @param entrypoint the ENTRYPOINT's executable
 */
record ImageRecipe(Dockerfile dockerfile, String unpackStage, String tarball, String home, List<String> copied,
    String entrypoint) {

  private static final Pattern EXEC_FORM = Pattern.compile("\\[\\s*\"([^\"]+)\"\\s*(,.*)?]");

  static ImageRecipe of(Path file) {
    Dockerfile d = Dockerfile.read(file);
    Dockerfile.Stage unpack = d.stages().get(0);
    if (unpack.name() == null || d.stages().size() < 2) {
      throw new AssertionError(file + ": expected a named unpack stage followed by the final stage");
    }
    List<Dockerfile.Instruction> adds = unpack.all("ADD");
    if (adds.size() != 1) throw new AssertionError(file + ": the unpack stage should ADD the tarball once");
    Dockerfile.Copy add = Dockerfile.Copy.of(adds.get(0));
    String tarball = add.sources().get(0);
    String unpackDir = trimSlash(add.destination());
    String home = null;
    Pattern mv = Pattern.compile("mv\\s+" + Pattern.quote(unpackDir + "/" + DistributionLayout.topFolder()) + "/?\\s+(\\S+)");
    for (Dockerfile.Instruction run : unpack.all("RUN")) {
      Matcher m = mv.matcher(run.arguments());
      if (m.find()) home = trimSlash(m.group(1));
    }
    if (home == null) {
      throw new AssertionError(file + ": the unpack stage does not move " + unpackDir + "/" + DistributionLayout.topFolder()
          + " to a home folder");
    }
    List<String> copied = new ArrayList<>();
    for (Dockerfile.Instruction i : d.finalStage().all("COPY")) {
      Dockerfile.Copy copy = Dockerfile.Copy.of(i);
      if (!unpack.name().equals(copy.flags().get("from"))) continue;
      for (String source : copy.sources()) {
        String s = trimSlash(source);
        if (!s.equals(home) && !s.startsWith(home + "/")) {
          throw new AssertionError(file + ":" + i.line() + ": copies " + source + ", outside the distribution at " + home);
        }
        copied.add(s.equals(home) ? "" : s.substring(home.length() + 1));
      }
    }
    List<Dockerfile.Instruction> entrypoints = d.finalStage().all("ENTRYPOINT");
    if (entrypoints.size() != 1) throw new AssertionError(file + ": expected one ENTRYPOINT in the final stage");
    Matcher exec = EXEC_FORM.matcher(entrypoints.get(0).arguments());
    if (!exec.matches()) {
      throw new AssertionError(file + ":" + entrypoints.get(0).line() + ": ENTRYPOINT must be in exec form "
          + "[\"...\"] so the launcher is PID 1 and gets SIGTERM");
    }
    return new ImageRecipe(d, unpack.name(), tarball, home, List.copyOf(copied), exec.group(1));
  }

  /** The entrypoint relative to the distribution's top folder, e.g. bin/gpu-agent. */
  String entrypointInDistribution() {
    if (!entrypoint.startsWith(home + "/")) throw new AssertionError(entrypoint + " is not under " + home);
    return entrypoint.substring(home.length() + 1);
  }

  private static String trimSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }
}
