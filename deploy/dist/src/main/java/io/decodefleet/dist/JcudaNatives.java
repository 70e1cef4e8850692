package io.decodefleet.dist;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * JCuda's natives jar ({@code jcuda-natives-<version>-linux-x86_64.jar}, 26 MB unpacked) cut down to
 * what the driver API loads.
 *
 * <p>Why the driver library alone is enough (JCuda 12.0.0): {@code JCudaDriver}'s static initialiser
 * loads exactly one library, {@code JCudaDriver-<version>-linux-x86_64}, with no dependents, first
 * through {@code System.loadLibrary} and then from the jar resource {@code /lib/lib<name>.so} (copied
 * to {@code java.io.tmpdir}). That library links only {@code libcuda.so.1} (from the GPU driver) and
 * the C/C++ runtime, and carries its own copy of the pointer marshalling. The other three libraries
 * are loaded only by classes the project does not use: {@code JNvPTXCompiler} (24 MB, a PTX compiler;
 * our kernels arrive as a prebuilt fatbin), {@code JNvrtc} (runtime compilation; needs
 * {@code libnvrtc.so.12}, absent on driver-only hosts) and {@code JCudaRuntime} (the CUDA runtime API,
 * which the design rules out in favour of the driver API).
 */
final class JcudaNatives {

  /** Entry prefix of the one native library kept: {@code lib/libJCudaDriver-12.0.0-linux-x86_64.so}. */
  static final String DRIVER_LIBRARY_PREFIX = "lib/libJCudaDriver-";

  private JcudaNatives() {}

  /** True for JCuda's natives jar of any version and platform, e.g. jcuda-natives-12.0.0-linux-x86_64.jar. */
  static boolean isNativesJar(String fileName) {
    return fileName.startsWith("jcuda-natives-") && fileName.endsWith(".jar");
  }

  /** True for the entries the slim jar keeps: metadata and the driver library, no other native code. */
  static boolean keeps(String entryName) {
    if (!entryName.startsWith("lib/") || entryName.equals("lib/")) {
      return true;
    }
    return entryName.startsWith(DRIVER_LIBRARY_PREFIX);
  }

  /** Writes the slim jar to {@code to} (entries stored); fails if {@code from} has no driver library. */
  static void slim(Path from, Path to) throws IOException {
    List<String> kept = StoredJar.copy(from, to, JcudaNatives::keeps);
    if (kept.stream().noneMatch(name -> name.startsWith(DRIVER_LIBRARY_PREFIX))) {
      throw new IllegalStateException(from.getFileName() + " holds no " + DRIVER_LIBRARY_PREFIX
          + "*.so: its layout changed, check which library JCudaDriver loads");
    }
  }
}
