package io.decodefleet.agent.nccl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
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

  /** {@code Linux/amd64}: how messages name this JVM's platform. */
  static String platform() {
    return System.getProperty("os.name") + "/" + System.getProperty("os.arch");
  }

  static boolean isLinuxX8664() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  /** The library the shim dlopens: the property, else the env var, else {@code libnccl.so.2}. */
  static String ncclLibrary() {
    String fromProperty = System.getProperty(LIBRARY_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return fromProperty.strip();
    }
    String fromEnv = System.getenv(LIBRARY_ENV);
    return fromEnv != null && !fromEnv.isBlank() ? fromEnv.strip() : DEFAULT_LIBRARY;
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
    StringBuilder causes = new StringBuilder();
    if (!isLinuxX8664()) {
      causes.append("the jar carries the NCCL shim for linux-x86_64 only");
    }
    InputStream in = NativeShim.class.getResourceAsStream(RESOURCE);
    if (in == null) {
      append(causes, "the NCCL shim is not in the jar (" + RESOURCE.substring(1)
          + "; it is built only where gcc was present at build time)");
      return causes.toString();
    }
    if (causes.length() > 0) {
      close(in);
      return causes.toString();
    }
    try (in) {
      Path file = Files.createTempFile("libdecodefleet_nccl", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      System.load(file.toAbsolutePath().toString());
      return "";
    } catch (IOException e) {
      return "the NCCL shim could not be extracted to " + System.getProperty("java.io.tmpdir")
          + ": " + e.getMessage();
    } catch (UnsatisfiedLinkError e) {
      return "the NCCL shim could not be loaded: " + e.getMessage();
    }
  }

  private static void append(StringBuilder causes, String cause) {
    causes.append(causes.length() == 0 ? "" : "; ").append(cause);
  }

  private static void close(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // Nothing was read from it; closing a resource stream cannot lose data.
    }
  }
}
