package io.decodefleet.dist;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * DJL's Hugging Face tokenizers jar ({@code tokenizers-<version>.jar}, 18 MB) cut down to the
 * platform the distribution is for. The jar carries {@code libtokenizers.so} (or .dylib, .dll) for
 * four platforms under {@code native/lib/<os>-<arch>/cpu/}; DJL extracts the one of the running
 * platform, named by {@code native/lib/tokenizers.properties}, so the other three are dead weight in
 * a Linux x86-64 tarball (about 8.7 MB compressed).
 */
final class TokenizerNatives {

  /** The one native library kept. */
  static final String LINUX_X86_64 = "native/lib/linux-x86_64/";

  private TokenizerNatives() {}

  /** True for DJL's tokenizers jar of any version, e.g. tokenizers-0.38.0.jar. */
  static boolean isTokenizersJar(String fileName) {
    return fileName.startsWith("tokenizers-") && fileName.endsWith(".jar");
  }

  /** True for the entries the slim jar keeps: classes, metadata, and the Linux x86-64 library. */
  static boolean keeps(String entryName) {
    if (!entryName.startsWith("native/lib/")) return true;
    return entryName.equals("native/lib/") || entryName.equals("native/lib/tokenizers.properties")
        || entryName.startsWith(LINUX_X86_64);
  }

  /** Writes the slim jar to {@code to} (entries stored); fails if {@code from} has no Linux x86-64 library. */
  static void slim(Path from, Path to) throws IOException {
    List<String> kept = StoredJar.copy(from, to, TokenizerNatives::keeps);
    if (kept.stream().noneMatch(name -> name.startsWith(LINUX_X86_64) && name.endsWith(".so"))) {
      throw new IllegalStateException(from.getFileName() + " holds no " + LINUX_X86_64
          + "*.so: its layout changed, check where DJL looks for libtokenizers");
    }
  }
}
