package io.decodefleet.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoredJarTest {

  @TempDir
  Path dir;

  /** Writes a deflated jar holding {@code entries} (name → bytes; a name ending in / is a folder). */
  static Path deflatedJar(Path file, Map<String, byte[]> entries) throws IOException {
    try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.setMethod(ZipOutputStream.DEFLATED);
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry entry = new ZipEntry(e.getKey());
        entry.setTime(1_700_000_000_000L);
        zip.putNextEntry(entry);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return file;
  }

  static List<String> names(Path jar) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      return Collections.list(zip.entries()).stream().map(ZipEntry::getName).toList();
    }
  }

  @Test
  void restoredJarKeepsEveryEntryInOrderWithTheSameBytesButStored() throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n".getBytes(StandardCharsets.UTF_8));
    entries.put("io/", new byte[0]);
    entries.put("io/Big.class", "abcdefgh".repeat(4096).getBytes(StandardCharsets.UTF_8)); // 32 KiB
    entries.put("io/Small.class", new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE});
    Path source = deflatedJar(dir.resolve("in.jar"), entries);

    Path stored = dir.resolve("out.jar");
    List<String> kept = StoredJar.copy(source, stored, name -> true);

    assertEquals(new ArrayList<>(entries.keySet()), kept);
    assertEquals(new ArrayList<>(entries.keySet()), names(stored));
    try (ZipFile zip = new ZipFile(stored.toFile())) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry entry = zip.getEntry(e.getKey());
        assertEquals(ZipEntry.STORED, entry.getMethod(), e.getKey());
        assertEquals(1_700_000_000_000L, entry.getTime(), e.getKey());
        try (var in = zip.getInputStream(entry)) {
          assertArrayEquals(e.getValue(), in.readAllBytes(), e.getKey());
        }
      }
    }
    // 32 KiB of repeated text deflates to almost nothing; stored it is all there.
    assertTrue(Files.size(stored) > 32 * 1024, "stored size " + Files.size(stored));
    assertTrue(Files.size(source) < 4 * 1024, "deflated size " + Files.size(source));
  }

  @Test
  void entriesTheFilterRejectsAreLeftOut() throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("keep/a.txt", new byte[] {1});
    entries.put("drop/b.txt", new byte[] {2});
    entries.put("keep/c.txt", new byte[] {3});
    Path source = deflatedJar(dir.resolve("in.jar"), entries);

    Path stored = dir.resolve("out.jar");
    List<String> kept = StoredJar.copy(source, stored, name -> name.startsWith("keep/"));

    assertEquals(List.of("keep/a.txt", "keep/c.txt"), kept);
    assertEquals(List.of("keep/a.txt", "keep/c.txt"), names(stored));
  }
}
