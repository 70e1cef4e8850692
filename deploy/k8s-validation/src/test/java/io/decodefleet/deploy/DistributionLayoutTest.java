package io.decodefleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfiles against the tarball deploy/dist built (in the reactor it is built before this module;
 * run alone before it exists, these are skipped and DockerfileTest checks the layout from the sources).
 */
class DistributionLayoutTest {
  private static DistributionLayout tarball;

  @BeforeAll
  static void listTarball() throws IOException, InterruptedException {
    Path file = DeploySources.tarball();
    assumeTrue(Files.isRegularFile(file), file + " is not built (mvn -pl deploy/dist -am package)");
    tarball = DistributionLayout.fromTarball(file);
  }

  @Test
  void theTarballHasOneTopFolderNamedForTheVersion() {
    assertEquals(DistributionLayout.topFolder(), tarball.top());
  }

  @Test
  void everyPathTheDockerfilesCopyIsInTheTarball() throws IOException {
    for (Path file : DockerfileTest.dockerfiles().toList()) {
      ImageRecipe recipe = ImageRecipe.of(file);
      for (String path : recipe.copied()) assertTrue(tarball.contains(path), file + ": copies missing " + path);
    }
  }

  @Test
  void theEntrypointsAndTheJavaTheyStartAreExecutableInTheTarball() throws IOException {
    for (Path file : DockerfileTest.dockerfiles().toList()) {
      String entrypoint = ImageRecipe.of(file).entrypointInDistribution();
      assertTrue(tarball.executable(entrypoint), file + ": " + entrypoint + " is missing or not executable");
    }
    assertTrue(tarball.executable("runtime/bin/java"), "runtime/bin/java");
    assertTrue(tarball.paths().stream().anyMatch(p -> p.startsWith("lib/") && p.endsWith(".jar")), "lib/*.jar");
  }

  @Test
  void theTarballShipsExactlyTheLaunchersOfTheSources() throws IOException {
    Set<String> shipped = new TreeSet<>();
    for (String p : tarball.paths()) if (p.startsWith("bin/") && p.indexOf('/', 4) < 0) shipped.add(p);
    Set<String> sources = new TreeSet<>();
    try (Stream<Path> launchers = Files.list(DeploySources.launchers())) {
      launchers.forEach(l -> sources.add("bin/" + l.getFileName()));
    }
    assertEquals(sources, shipped);
    assertTrue(shipped.containsAll(List.of("bin/gpu-agent", "bin/coordinator")), shipped.toString());
  }
}
