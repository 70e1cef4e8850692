package io.decodefleet.agent.nativeshim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * One of the project's JNI shims, carried in the jar for linux-x86_64 (the build puts it among the
 * classes where gcc was present) and loaded into the JVM once, by the static initialiser of the
 * binding class that declares its natives. The shim itself dlopens the vendor library; this class
 * only finds and loads the shim, and names the vendor library the user asked for.
 *
 * @param what how messages name the shim, e.g. "the NCCL shim"
 * @param resource where the build leaves it among the classes, e.g.
 *     {@code /io/decodefleet/agent/nccl/native/linux-x86_64/libdecodefleet_nccl.so}
 */
public record ShimLibrary(String what, String resource) {

  /** {@code Linux/amd64}: how messages name this JVM's platform. */
  public static String platform() {
    return System.getProperty("os.name") + "/" + System.getProperty("os.arch");
  }

  public static boolean isLinuxX8664() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  /**
   * The vendor library a user named: the system property, else the environment variable, else
   * null (the binding then tries its defaults).
   */
  public static String chosenLibrary(String property, String env) {
    String fromProperty = System.getProperty(property);
    if (fromProperty != null && !fromProperty.isBlank()) {
      return fromProperty.strip();
    }
    String fromEnv = System.getenv(env);
    return fromEnv != null && !fromEnv.isBlank() ? fromEnv.strip() : null;
  }

  /**
   * Extracts the shim to a temporary file and loads it into this JVM. Returns "" on success, or
   * every reason it could not: the platform, the resource's absence, the loader's error.
   */
  public String load() {
    StringBuilder causes = new StringBuilder();
    if (!isLinuxX8664()) {
      causes.append("the jar carries ").append(what).append(" for linux-x86_64 only");
    }
    InputStream in = ShimLibrary.class.getResourceAsStream(resource);
    if (in == null) {
      causes.append(causes.length() == 0 ? "" : "; ").append(what).append(" is not in the jar (")
          .append(resource.substring(1)).append("; it is built only where gcc was present at build time)");
      return causes.toString();
    }
    if (causes.length() > 0) {
      close(in);
      return causes.toString();
    }
    String stem = resource.substring(resource.lastIndexOf('/') + 1).replace(".so", "");
    try (in) {
      Path file = Files.createTempFile(stem, ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      System.load(file.toAbsolutePath().toString());
      return "";
    } catch (IOException e) {
      return what + " could not be extracted to " + System.getProperty("java.io.tmpdir") + ": " + e.getMessage();
    } catch (UnsatisfiedLinkError e) {
      return what + " could not be loaded: " + e.getMessage();
    }
  }

  private static void close(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // Nothing was read from it; closing a resource stream cannot lose data.
    }
  }
}
