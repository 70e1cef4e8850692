package io.decodefleet.coordinator.text;

import ai.djl.huggingface.tokenizers.jni.LibUtils;
import io.decodefleet.agent.nativeshim.ShimLibrary;
import java.nio.file.Path;

/**
 * The native library under {@link HfTokenizer}: Hugging Face's Rust {@code tokenizers}, bound by DJL
 * ({@code ai.djl.huggingface:tokenizers}). The jar carries a CPU build per platform (linux-x86_64,
 * linux-aarch64, osx-aarch64, win-x86_64); at first use DJL copies the one for this platform to
 * {@code <cache>/tokenizers/<version>-cpu-<platform>/} and loads it from there, once per JVM.
 *
 * <p>Before DJL's classes initialise, this class sets the system properties DJL reads (each through
 * {@code ai.djl.util.Utils.getEnvOrSystemProperty}, where an environment variable of the same name
 * wins, and only where no {@code -D} of that name was given):
 * <ul>
 *   <li>{@code DJL_CACHE_DIR} = {@code $DECODEFLEET_CACHE_DIR/djl}, else {@code ~/.cache/decodefleet/djl}
 *       (where the GEMM decisions are cached too), instead of DJL's {@code ~/.djl.ai}. DJL's own
 *       {@code ENGINE_CACHE_DIR}, when set, still comes first. {@code DECODEFLEET_CACHE_DIR=off}
 *       turns off caches of decisions, not this copy: it then goes to the default folder.</li>
 *   <li>{@code ai.djl.offline} = true: DJL never downloads (on a host with CUDA it would otherwise
 *       look for a CUDA build of the library online) and sends no usage report from EC2 hosts.</li>
 *   <li>{@code OPT_OUT_TRACKING} = true: the same report, switched off even if offline is overridden.</li>
 *   <li>{@code RUST_FLAVOR} = cpu: the CPU build the jar carries, the only one tokenizing needs.</li>
 * </ul>
 * DJL still asks the CUDA runtime for the GPU count once where {@code libcudart.so} is on the library
 * path (its platform detection does, whatever the flavor); it does not use the answer here.
 */
final class HfNativeLibrary {

  /** The project's cache folder (shared with gpu-agent's GEMM cache), read from the environment. */
  static final String CACHE_ENV = "DECODEFLEET_CACHE_DIR";

  private HfNativeLibrary() {}

  /** Loads on first use only: the other methods here must not load a native library as a side effect. */
  private static final class Outcome {
    static final String UNAVAILABLE = load();
  }

  /** Loads the library, once per JVM; false when it cannot load here. */
  static boolean isAvailable() {
    return Outcome.UNAVAILABLE.isEmpty();
  }

  /** "" when available, else one line: the platform and every cause. */
  static String unavailabilityCause() {
    return Outcome.UNAVAILABLE;
  }

  /**
   * Where the library is copied: {@code <cacheEnv>/djl} when that names a folder, else
   * {@code <userHome>/.cache/decodefleet/djl}.
   *
   * @param cacheEnv the value of {@value #CACHE_ENV}, or null
   */
  static Path cacheDirectory(String cacheEnv, String userHome) {
    if (cacheEnv != null && !cacheEnv.isBlank() && !cacheEnv.strip().equals("off")) {
      return Path.of(cacheEnv.strip(), "djl");
    }
    return Path.of(userHome, ".cache", "decodefleet", "djl");
  }

  /** The folder DJL copies the library into, by DJL's rule: {@code ENGINE_CACHE_DIR}, else {@code DJL_CACHE_DIR}. */
  static Path libraryCache() {
    for (String name : new String[] {"ENGINE_CACHE_DIR", "DJL_CACHE_DIR"}) {
      for (String value : new String[] {System.getenv(name), System.getProperty(name)}) {
        if (value != null && !value.isEmpty()) {
          return Path.of(value, "tokenizers");
        }
      }
    }
    return Path.of(System.getProperty("user.home"), ".djl.ai", "tokenizers");
  }

  private static String load() {
    setUnlessGiven("DJL_CACHE_DIR",
        cacheDirectory(System.getenv(CACHE_ENV), System.getProperty("user.home")).toString());
    setUnlessGiven("ai.djl.offline", "true");
    setUnlessGiven("OPT_OUT_TRACKING", "true");
    setUnlessGiven("RUST_FLAVOR", "cpu");
    try {
      LibUtils.checkStatus();
      return "";
    } catch (RuntimeException | LinkageError e) {
      return failure(e);
    }
  }

  /** The one line that says why the library did not load: the platform, the folder, every cause. */
  static String failure(Throwable e) {
    return "the Hugging Face tokenizers library (DJL) cannot load on " + ShimLibrary.platform() + " from "
        + libraryCache() + ": " + causes(e)
        + " (the jar carries it for linux-x86_64, linux-aarch64, osx-aarch64 and win-x86_64; "
        + CACHE_ENV + " must name a writable folder)";
  }

  private static void setUnlessGiven(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  /** Each distinct message of the cause chain, outermost first, joined on one line. */
  static String causes(Throwable e) {
    StringBuilder line = new StringBuilder();
    String previous = null;
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
      message = message.replaceAll("\\s*\\R\\s*", " ");
      if (!message.equals(previous)) {
        line.append(line.length() == 0 ? "" : ": ").append(message);
      }
      previous = message;
    }
    return line.toString();
  }
}
