package io.decodefleet.coordinator.report;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The software versions a report records, so results from different builds are not compared
 * unknowingly: "decodefleet" (the build's project version), "java" (the running JVM) and, when
 * Pekko is on the classpath, "pekko".
 */
public final class RuntimeVersions {

  /** Written by the build with the project version (see the coordinator's pom). */
  private static final String VERSION_RESOURCE = "version.properties";

  private RuntimeVersions() {}

  /** The versions of this process, in the order decodefleet, java, pekko. */
  public static Map<String, String> current() {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put("decodefleet", decodeFleet());
    versions.put("java", System.getProperty("java.version"));
    String pekko = pekko();
    if (pekko != null) {
      versions.put("pekko", pekko);
    }
    return versions;
  }

  /** The project version the build wrote into the resource; "unknown" when it is missing. */
  static String decodeFleet() {
    try (InputStream in = RuntimeVersions.class.getResourceAsStream(VERSION_RESOURCE)) {
      if (in != null) {
        Properties properties = new Properties();
        properties.load(in);
        String version = properties.getProperty("version", "").trim();
        if (!version.isEmpty() && !version.startsWith("${")) {
          return version;
        }
      }
    } catch (IOException e) {
      // fall through: an unreadable resource is reported as an unknown version
    }
    String fromManifest = RuntimeVersions.class.getPackage().getImplementationVersion();
    return fromManifest != null ? fromManifest : "unknown";
  }

  /**
   * {@code org.apache.pekko.Version.current()}, looked up reflectively so this class also works
   * where Pekko is absent; null then.
   */
  static String pekko() {
    try {
      Object version = Class.forName("org.apache.pekko.Version").getMethod("current").invoke(null);
      return version == null ? null : version.toString();
    } catch (ReflectiveOperationException | LinkageError e) {
      return null;
    }
  }
}
