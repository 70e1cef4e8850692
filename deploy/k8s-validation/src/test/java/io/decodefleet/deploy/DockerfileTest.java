package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Dockerfiles, checked without a Docker engine: pinned bases, a multi-stage build whose final stage
 * only copies the distribution and installs no build tools, a numeric non-root user, and an entrypoint
 * that is this image's launcher in the distribution's layout (as deploy/dist assembles it).
 */
class DockerfileTest {
  /** Packages and commands that build things; none belongs in a final image. */
  private static final Set<String> BUILD_TOOLS = Set.of("gcc", "g++", "clang", "make", "cmake", "build-essential",
      "maven", "mvn", "gradle", "javac", "openjdk-17-jdk", "openjdk-17-jdk-headless", "default-jdk", "git", "curl",
      "wget", "cuda-toolkit", "cuda-nvcc", "xz-utils");
  private static final Pattern NUMERIC_USER = Pattern.compile("(\\d+)(?::(\\d+))?");

  static Stream<Path> dockerfiles() throws IOException {
    try (Stream<Path> files = Files.list(DeploySources.docker())) {
      return files.filter(p -> p.getFileName().toString().endsWith(".Dockerfile")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void everyBaseImageIsPinnedByTag(Path file) {
    Dockerfile d = Dockerfile.read(file);
    List<String> earlier = new ArrayList<>();
    for (Dockerfile.Stage stage : d.stages()) {
      if (!earlier.contains(stage.base())) {
        assertFalse(stage.base().contains("$"), file + ": unresolved base " + stage.base());
        assertTrue(ImageReference.parse(stage.base()).pinned(), file + ": FROM " + stage.base() + " is not pinned by tag");
      }
      if (stage.name() != null) earlier.add(stage.name());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void theFirstStageUnpacksTheTarballDeployDistBuilds(Path file) {
    ImageRecipe recipe = ImageRecipe.of(file);
    assertEquals(DeploySources.tarball().getFileName().toString(), recipe.tarball(),
        file + ": the ADDed tarball (with VERSION's default) is not the one deploy/dist builds");
    assertTrue(matchesIgnoreFile(file, recipe.tarball()), file + ": its .dockerignore keeps the tarball out of the context");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void theFinalStageOnlyCopiesFromTheUnpackStageAndInstallsNoBuildTools(Path file) {
    ImageRecipe recipe = ImageRecipe.of(file);
    Dockerfile.Stage last = recipe.dockerfile().finalStage();
    assertTrue(last.all("ADD").isEmpty(), file + ": ADD in the final stage");
    for (Dockerfile.Instruction copy : last.all("COPY")) {
      assertEquals(recipe.unpackStage(), Dockerfile.Copy.of(copy).flags().get("from"),
          file + ":" + copy.line() + ": the final stage copies only from the unpack stage");
    }
    for (Dockerfile.Instruction run : last.all("RUN")) {
      Set<String> words = new TreeSet<>(List.of(run.arguments().split("[\\s;&|=]+")));
      words.retainAll(BUILD_TOOLS);
      assertEquals(Set.of(), words, file + ":" + run.line() + ": build tools in the final image");
      if (run.arguments().contains("apt-get install")) {
        assertTrue(run.arguments().contains("--no-install-recommends"), file + ":" + run.line() + ": --no-install-recommends");
        assertTrue(run.arguments().contains("rm -rf /var/lib/apt/lists"), file + ":" + run.line() + ": apt lists left behind");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void theContainerRunsAsTheNumericNonRootUserTheImageCreates(Path file) {
    Dockerfile d = Dockerfile.read(file);
    Matcher user = NUMERIC_USER.matcher(d.user());
    assertTrue(user.matches(), file + ": USER " + d.user() + " must be numeric for Kubernetes' runAsNonRoot check");
    assertFalse(user.group(1).equals("0") || "0".equals(user.group(2)), file + ": USER " + d.user() + " is root");
    boolean created = d.finalStage().all("RUN").stream().anyMatch(r -> r.arguments().contains("--uid " + user.group(1)));
    assertTrue(created, file + ": no user with uid " + user.group(1) + " is created");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void theEntrypointIsThisImagesLauncherAndItsRuntimeAndJarsAreCopied(Path file) throws IOException {
    ImageRecipe recipe = ImageRecipe.of(file);
    String image = file.getFileName().toString().replace(".Dockerfile", "");
    assertEquals("bin/" + image, recipe.entrypointInDistribution(), file + ": ENTRYPOINT");
    Path launcher = DeploySources.launchers().resolve(image);
    assertTrue(Files.isRegularFile(launcher), "deploy/dist ships no launcher " + image);
    // The launcher runs runtime/bin/java on lib/*, both relative to its own folder's parent.
    String script = Files.readString(launcher);
    assertTrue(script.contains("$home/runtime/bin/java") && script.contains("$home/lib/*"), launcher + " layout changed");
    for (String needed : List.of("runtime", "lib", "bin/" + image)) {
      assertTrue(recipe.copied().contains(needed), file + ": does not copy " + needed + " of the distribution");
    }
    boolean javaOpts = recipe.dockerfile().finalStage().all("ENV").stream().anyMatch(e -> e.arguments().startsWith("JAVA_OPTS"));
    assertTrue(!javaOpts || script.contains("JAVA_OPTS"), file + ": sets JAVA_OPTS, which the launcher ignores");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void everyCopiedPathIsInTheDistributionLayout(Path file) {
    ImageRecipe recipe = ImageRecipe.of(file);
    DistributionLayout layout = DistributionLayout.fromSources();
    for (String path : recipe.copied()) {
      assertTrue(layout.contains(path), file + ": copies " + path + ", which the distribution does not have ("
          + new TreeSet<>(layout.paths()) + ")");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dockerfiles")
  void exposedPortsAreTheContainerPortsOfThePodsRunningTheImage(Path file) {
    String image = file.getFileName().toString().replace(".Dockerfile", "");
    Set<Integer> used = new TreeSet<>();
    for (Path dir : ManifestSet.kustomizations()) {
      for (ManifestSet.PodTemplate t : ManifestSet.rendered(dir).podTemplates()) {
        for (Container c : t.spec().getContainers()) {
          if (ContainerCommandLine.Application.ofImage(c.getImage()).launcher.equals(image)) {
            c.getPorts().forEach(p -> used.add(p.getContainerPort()));
          }
        }
      }
    }
    Set<Integer> exposed = new TreeSet<>();
    for (Dockerfile.Instruction expose : Dockerfile.read(file).finalStage().all("EXPOSE")) {
      for (String port : expose.arguments().split("\\s+")) exposed.add(Integer.parseInt(port.replace("/tcp", "")));
    }
    assertEquals(used, exposed, file + ": EXPOSE");
  }

  private static boolean matchesIgnoreFile(Path dockerfile, String tarball) {
    Path ignore = dockerfile.resolveSibling(dockerfile.getFileName() + ".dockerignore");
    if (!Files.isRegularFile(ignore)) return false;
    boolean included = true;
    try {
      for (String line : Files.readAllLines(ignore)) {
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) continue;
        boolean negate = l.startsWith("!");
        String pattern = negate ? l.substring(1) : l;
        if (FileSystems.getDefault().getPathMatcher("glob:" + pattern).matches(Path.of(tarball))) included = negate;
      }
    } catch (IOException e) {
      return false;
    }
    return included;
  }
}
