package io.decodefleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistributionJarsTest {

  @TempDir
  Path dir;

  @Test
  void stagingSlimsTheNativesJarAndStoresTheOthers() throws IOException {
    Path natives = StoredJarTest.deflatedJar(dir.resolve("jcuda-natives-12.0.0-linux-x86_64.jar"), JcudaNativesTest.realLayout());
    Map<String, byte[]> plain = new LinkedHashMap<>();
    plain.put("a/B.class", "x".repeat(10_000).getBytes());
    Path other = StoredJarTest.deflatedJar(dir.resolve("other-1.0.jar"), plain);
    Path classpath = Files.writeString(dir.resolve("cp.txt"), natives + File.pathSeparator + other + "\n");
    Path lib = dir.resolve("lib");

    DistributionJars.Staged staged = DistributionJars.stage(classpath, lib);

    assertEquals(2, staged.jars());
    assertTrue(staged.slimmedJcudaNatives());
    assertFalse(StoredJarTest.names(lib.resolve(natives.getFileName())).stream()
        .anyMatch(name -> name.contains("NvPTXCompiler")));
    assertTrue(Files.size(lib.resolve("other-1.0.jar")) > 10_000, "the 10 kB class is stored, not deflated");
  }

  @Test
  void classpathEntryThatIsNotAJarIsNamed() throws IOException {
    Path classes = Files.createDirectories(dir.resolve("coordinator/target/classes"));
    Path classpath = Files.writeString(dir.resolve("cp.txt"), classes.toString());

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> DistributionJars.stage(classpath, dir.resolve("lib")));
    assertTrue(e.getMessage().contains(classes + " is not a jar file"), e.getMessage());
  }
}
