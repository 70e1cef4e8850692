package io.decodefleet.agent.nccl;

import io.decodefleet.agent.nativeshim.ShimLibrary;
import java.util.function.UnaryOperator;

/**
 * Finds and loads the JNI shim ({@code libdecodefleet_nccl.so}) that the build puts into the jar
 * for linux-x86_64, and names the NCCL library the shim will dlopen. Used once, by {@link Nccl}'s
 * static initialiser.
 */
final class NativeShim {

  /** Where the Maven build leaves the shim among the classes. */
  static final String RESOURCE =
      "/io/decodefleet/agent/nccl/native/linux-x86_64/libdecodefleet_nccl.so";
  /** System property naming the NCCL library (a file path or a soname); wins over the env var. */
  static final String LIBRARY_PROPERTY = "decodefleet.nccl.library";
  static final String LIBRARY_ENV = "DECODEFLEET_NCCL_LIBRARY";
  static final String DEFAULT_LIBRARY = "libnccl.so.2";

  private NativeShim() {}

  private static final ShimLibrary SHIM = new ShimLibrary("the NCCL shim", RESOURCE);

  /** {@code Linux/amd64}: how messages name this JVM's platform. */
  static String platform() {
    return ShimLibrary.platform();
  }

  static boolean isLinuxX8664() {
    return ShimLibrary.isLinuxX8664();
  }

  /** The library the shim dlopens: the property, else the env var, else {@code libnccl.so.2}. */
  static String ncclLibrary() {
    String named = ShimLibrary.chosenLibrary(LIBRARY_PROPERTY, LIBRARY_ENV);
    return named != null ? named : DEFAULT_LIBRARY;
  }

  /**
   * Loads the shim, then NCCL through {@code loadLibrary} (the shim's entry point: "" or why
   * dlopen or dlsym failed). Returns "" when both loaded, else one line naming the platform and
   * every cause.
   */
  static String probe(UnaryOperator<String> loadLibrary) {
    String prefix = "NCCL is unavailable on " + platform() + ": ";
    String shim = load();
    if (!shim.isEmpty()) {
      return prefix + shim;
    }
    String failure;
    try {
      failure = loadLibrary.apply(ncclLibrary());
    } catch (UnsatisfiedLinkError e) {
      return prefix + "the NCCL shim does not match this class: " + e.getMessage();
    }
    return failure.isEmpty() ? "" : prefix + failure + " (put NCCL's lib folder on"
        + " LD_LIBRARY_PATH, or name the file with -D" + LIBRARY_PROPERTY + "=PATH or "
        + LIBRARY_ENV + "=PATH)";
  }

  /**
   * Extracts the shim to a temporary file and loads it into this JVM. Returns "" on success, or
   * every reason it could not: the platform, the resource's absence, the loader's error.
   */
  static String load() {
    return SHIM.load();
  }
}
