package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA driver, reached through JCuda's driver binding: loaded and initialised once per JVM.
 *
 * <p>Loading fails cleanly on a machine without an NVIDIA driver: JCuda's native library links
 * against {@code libcuda.so.1}, so without it the class fails to load ({@link
 * UnsatisfiedLinkError}); with a driver but no GPU, {@code cuInit} reports CUDA_ERROR_NO_DEVICE.
 * Either way {@link #isAvailable()} is false and {@link #unavailabilityCause()} says why in one
 * short line: {@code no CUDA driver on this host (libcuda.so.1 not found)} where the driver is not
 * installed, else the loader's or the driver's error naming the OS and architecture. Only the driver library is loaded, never JCuda's runtime or PTX
 * compiler libraries.
 */
public final class CudaDriver {

  /** Set by {@link #probe} once JCuda's driver library loaded (before cuInit), so no initialiser here. */
  private static volatile boolean libraryLoaded;

  private static final String CAUSE = probe();

  private CudaDriver() {}

  /** Whether the driver loaded and {@code cuInit} succeeded. */
  public static boolean isAvailable() {
    return CAUSE.isEmpty();
  }

  /** Why the driver is unusable, in one line; empty when it is available. */
  public static String unavailabilityCause() {
    return CAUSE;
  }

  /** Whether JCuda's driver library loaded (cuInit may still have failed): JCudaDriver can be called. */
  static boolean libraryLoaded() {
    return libraryLoaded;
  }

  /** The driver's CUDA version, as cuDriverGetVersion gives it (13000 for CUDA 13.0). */
  public static int version() {
    require();
    int[] v = new int[1];
    CudaStatus.check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion", null);
    return v[0];
  }

  /** Throws with the cause unless the driver is available. */
  static void require() {
    if (!isAvailable()) {
      throw new IllegalStateException(CAUSE);
    }
  }

  private static String probe() {
    String platform = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
    // JCuda's loader logs each failed attempt (with its stack trace) through java.util.logging when
    // asked to (-Djcuda.LibUtils.level); the one line below says all of it.
    java.util.logging.Logger jcudaLog = java.util.logging.Logger.getLogger("jcuda");
    java.util.logging.Level levelBefore = jcudaLog.getLevel();
    jcudaLog.setLevel(java.util.logging.Level.OFF);
    try {
      // Touching JCudaDriver loads libJCudaDriver (and through it libcuda.so.1).
      JCudaDriver.setExceptionsEnabled(false);
      libraryLoaded = true;
      int rc = JCudaDriver.cuInit(0);
      if (rc == CUresult.CUDA_ERROR_NO_DEVICE) {
        return "the CUDA driver reports no device (cuInit: " + CudaStatus.describe(rc) + ")";
      }
      if (rc != CUresult.CUDA_SUCCESS) {
        return "cuInit failed on " + platform + ": " + CudaStatus.describe(rc);
      }
      return "";
    } catch (LinkageError | RuntimeException e) {
      String missing = missingDriverLibrary(e);
      return missing != null ? "no CUDA driver on this host (" + missing + " not found)"
          : "the CUDA driver could not be loaded on " + platform + ": " + rootMessage(e);
    } finally {
      jcudaLog.setLevel(levelBefore);
    }
  }

  /**
   * The driver library whose absence made loading fail ({@code libcuda.so.1}: no NVIDIA driver is
   * installed), or null when loading failed for another reason.
   */
  static String missingDriverLibrary(Throwable e) {
    java.util.regex.Pattern notFound = java.util.regex.Pattern.compile("(libcuda\\.so[.0-9]*): cannot open shared object file");
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      java.util.regex.Matcher m = notFound.matcher(String.valueOf(t.getMessage()));
      if (m.find()) return m.group(1);
    }
    return null;
  }

  /**
   * One line from a loader failure. JCuda's message spans many lines: a headline naming the
   * library, then a stack trace per attempt (from java.library.path, then from the jar); keep the
   * headline and each attempt's own error, which says what was missing (typically libcuda.so.1).
   */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    String[] lines = m.strip().split("\\R");
    StringBuilder causes = new StringBuilder();
    for (String line : lines) {
      String l = line.strip();
      int colon = l.indexOf("Error: ");
      if (l.startsWith("java.") && colon > 0) {
        causes.append(causes.length() == 0 ? "" : "; ").append(l.substring(colon + 7));
      }
    }
    String head = lines[0].strip();
    return causes.length() == 0 ? head : head + " (" + causes + ")";
  }
}
