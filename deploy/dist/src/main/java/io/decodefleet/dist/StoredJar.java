package io.decodefleet.dist;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites a jar with every entry STORED instead of deflated. The tarball is compressed once, by xz,
 * across all jars and the runtime: deflated entries are already high-entropy and xz cannot shrink them
 * again, while stored ones let its 8 MiB window find the redundancy between classes and between jars.
 * Entry names, order, bytes and times are kept, so signed and multi-release jars stay valid.
 */
final class StoredJar {

  private StoredJar() {}

  /**
   * Copies {@code from} to {@code to}, keeping the entries whose name {@code keep} accepts, each stored.
   *
   * @return the names of the entries kept, in order
   */
  static List<String> copy(Path from, Path to, Predicate<String> keep) throws IOException {
    List<String> kept = new ArrayList<>();
    try (ZipFile in = new ZipFile(from.toFile());
        OutputStream file = Files.newOutputStream(to);
        ZipOutputStream out = new ZipOutputStream(file)) {
      out.setMethod(ZipOutputStream.STORED);
      Enumeration<? extends ZipEntry> entries = in.entries();
      while (entries.hasMoreElements()) {
        ZipEntry source = entries.nextElement();
        if (!keep.test(source.getName())) {
          continue;
        }
        byte[] bytes;
        try (var stream = in.getInputStream(source)) {
          bytes = stream.readAllBytes();
        }
        CRC32 crc = new CRC32();
        crc.update(bytes);
        ZipEntry stored = new ZipEntry(source.getName());
        stored.setMethod(ZipEntry.STORED);
        stored.setSize(bytes.length);
        stored.setCompressedSize(bytes.length);
        stored.setCrc(crc.getValue());
        stored.setTime(source.getTime());
        try {
          out.putNextEntry(stored);
        } catch (ZipException e) {
          throw new ZipException(from.getFileName() + ": " + e.getMessage());
        }
        out.write(bytes);
        out.closeEntry();
        kept.add(source.getName());
      }
    }
    return kept;
  }
}
