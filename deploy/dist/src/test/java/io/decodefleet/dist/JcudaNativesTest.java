package io.decodefleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JcudaNativesTest {

  @TempDir
  Path dir;

  /** The entries of jcuda-natives-12.0.0-linux-x86_64.jar, with stand-in bytes for the libraries. */
  static Map<String, byte[]> realLayout() {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n".getBytes());
    entries.put("META-INF/", new byte[0]);
    entries.put("lib/", new byte[0]);
    entries.put("lib/libJCudaDriver-12.0.0-linux-x86_64.so", new byte[] {0x7f, 'E', 'L', 'F', 1});
    entries.put("lib/libJNvPTXCompiler-12.0.0-linux-x86_64.so", new byte[] {0x7f, 'E', 'L', 'F', 2});
    entries.put("lib/libJCudaRuntime-12.0.0-linux-x86_64.so", new byte[] {0x7f, 'E', 'L', 'F', 3});
    entries.put("lib/libJNvrtc-12.0.0-linux-x86_64.so", new byte[] {0x7f, 'E', 'L', 'F', 4});
    entries.put("META-INF/maven/org.jcuda/jcuda-natives/pom.properties", "version=12.0.0\n".getBytes());
    return entries;
  }

  @Test
  void slimJarKeepsTheDriverLibraryAndMetadataOnly() throws IOException {
    Path natives = StoredJarTest.deflatedJar(dir.resolve("jcuda-natives-12.0.0-linux-x86_64.jar"), realLayout());
    Path slim = dir.resolve("slim.jar");

    JcudaNatives.slim(natives, slim);

    assertEquals(List.of("META-INF/MANIFEST.MF", "META-INF/", "lib/", "lib/libJCudaDriver-12.0.0-linux-x86_64.so",
        "META-INF/maven/org.jcuda/jcuda-natives/pom.properties"), StoredJarTest.names(slim));
  }

  @Test
  void nativesJarWithoutTheDriverLibraryIsRejectedByName() throws IOException {
    Map<String, byte[]> entries = realLayout();
    entries.remove("lib/libJCudaDriver-12.0.0-linux-x86_64.so");
    Path natives = StoredJarTest.deflatedJar(dir.resolve("jcuda-natives-12.0.0-linux-x86_64.jar"), entries);

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> JcudaNatives.slim(natives, dir.resolve("slim.jar")));
    assertTrue(e.getMessage().startsWith("jcuda-natives-12.0.0-linux-x86_64.jar holds no lib/libJCudaDriver-"),
        e.getMessage());
  }

  @Test
  void onlyJcudaNativesJarsAreRecognised() {
    assertTrue(JcudaNatives.isNativesJar("jcuda-natives-12.0.0-linux-x86_64.jar"));
    assertTrue(JcudaNatives.isNativesJar("jcuda-natives-12.6.0-linux-x86_64.jar"));
    assertFalse(JcudaNatives.isNativesJar("jcuda-12.0.0.jar"));
    assertFalse(JcudaNatives.isNativesJar("decodefleet-kernels-0.1.0-SNAPSHOT.jar"));
  }
}
