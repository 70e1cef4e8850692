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

class TokenizerNativesTest {

  @TempDir
  Path dir;

  /** The layout of DJL's tokenizers-0.38.0.jar, with stand-in bytes for the libraries. */
  static Map<String, byte[]> realLayout() {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n".getBytes());
    entries.put("ai/djl/huggingface/tokenizers/HuggingFaceTokenizer.class", new byte[] {(byte) 0xca, (byte) 0xfe});
    entries.put("native/", new byte[0]);
    entries.put("native/lib/", new byte[0]);
    entries.put("native/lib/tokenizers.properties", "version=0.22.1\n".getBytes());
    entries.put("native/lib/linux-aarch64/cpu/libtokenizers.so", new byte[] {0x7f, 'E', 'L', 'F', 1});
    entries.put("native/lib/linux-x86_64/", new byte[0]);
    entries.put("native/lib/linux-x86_64/cpu/libtokenizers.so", new byte[] {0x7f, 'E', 'L', 'F', 2});
    entries.put("native/lib/osx-aarch64/cpu/libtokenizers.dylib", new byte[] {3});
    entries.put("native/lib/win-x86_64/cpu/tokenizers.dll", new byte[] {4});
    return entries;
  }

  @Test
  void slimJarKeepsClassesMetadataAndTheLinuxX8664LibraryOnly() throws IOException {
    Path jar = StoredJarTest.deflatedJar(dir.resolve("tokenizers-0.38.0.jar"), realLayout());
    Path slim = dir.resolve("slim.jar");

    TokenizerNatives.slim(jar, slim);

    assertEquals(List.of("META-INF/MANIFEST.MF", "ai/djl/huggingface/tokenizers/HuggingFaceTokenizer.class", "native/",
        "native/lib/", "native/lib/tokenizers.properties", "native/lib/linux-x86_64/",
        "native/lib/linux-x86_64/cpu/libtokenizers.so"), StoredJarTest.names(slim));
  }

  @Test
  void aJarWithoutTheLinuxX8664LibraryIsRejectedByName() throws IOException {
    Map<String, byte[]> entries = realLayout();
    entries.remove("native/lib/linux-x86_64/cpu/libtokenizers.so");
    Path jar = StoredJarTest.deflatedJar(dir.resolve("tokenizers-0.38.0.jar"), entries);

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TokenizerNatives.slim(jar, dir.resolve("slim.jar")));
    assertTrue(e.getMessage().startsWith("tokenizers-0.38.0.jar holds no native/lib/linux-x86_64/"), e.getMessage());
  }

  @Test
  void onlyTheTokenizersJarIsRecognised() {
    assertTrue(TokenizerNatives.isTokenizersJar("tokenizers-0.38.0.jar"));
    assertFalse(TokenizerNatives.isTokenizersJar("api-0.38.0.jar"));
    assertFalse(TokenizerNatives.isTokenizersJar("jcuda-natives-12.0.0-linux-x86_64.jar"));
  }
}
