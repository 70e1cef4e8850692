package io.decodefleet.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code runtime/} folder: a jlink image of the JDK that runs the build, holding the modules the
 * jars use, uncompressed (xz compresses the whole tarball far better than jlink's zip level) and with
 * libjvm.so stripped of its symbol table when {@code strip} is available (24 MB → about 20 MB here).
 */
final class RuntimeImage {

  /**
   * Modules linked in. {@code jdeps --ignore-missing-deps --print-module-deps} on lib/ finds all but
   * the last, and the distribution test checks that it still does.
   */
  static final List<String> MODULES = List.of(
      "java.base",
      "java.compiler",    // javax.lang.model annotations referenced by agrona and error_prone_annotations
      "java.desktop",     // java.beans (Jackson, Typesafe Config) and headless java.awt for report charts
      "java.logging",     // java.util.logging: JCuda's library loader, gRPC, Guava
      "java.management",  // JMX beans: Pekko cluster, agrona, the report's hardware line
      "jdk.management",   // com.sun.management.OperatingSystemMXBean: the report's RAM figure
      "java.naming",      // JNDI: logback, Pekko actor/remote, gRPC's name resolver
      "java.net.http",    // java.net.http.HttpClient: client mode against OpenAI-compatible servers
      "java.sql",         // java.sql.Timestamp and friends referenced by Jackson and Gson
      "java.xml",         // logback configuration; also required by java.desktop and java.sql
      "jdk.jfr",          // Pekko's flight-recorder events
      "jdk.unsupported",  // sun.misc.Unsafe: protobuf, Netty (inside grpc-netty-shaded), agrona, Pekko
      // Invisible to jdeps because it is a security provider found through ServiceLoader: elliptic-curve
      // key exchange and signatures for TLS (Pekko remoting, the gRPC API, the Kubernetes API).
      "jdk.crypto.ec");

  private RuntimeImage() {}

  /** Links the image into {@code output} (which must not exist) with the jlink of {@code jdk}. */
  static void link(Path jdk, Path output) throws IOException {
    Path jlink = jdk.resolve("bin/jlink");
    Path jmods = jdk.resolve("jmods");
    if (!Files.isExecutable(jlink)) {
      throw new IllegalStateException(jlink + " is missing: build with a JDK (not a JRE) of Java 17 or newer");
    }
    if (!Files.isRegularFile(jmods.resolve("java.base.jmod"))) {
      throw new IllegalStateException(jmods + "/java.base.jmod is missing: jlink needs the JDK's jmods "
          + "(Debian ships them in openjdk-17-jdk-headless, Ubuntu in openjdk-17-jmods)");
    }
    ExternalCommand.run(List.of(jlink.toString(),
        "--module-path", jmods.toString(),
        "--add-modules", String.join(",", MODULES),
        "--strip-debug", "--no-header-files", "--no-man-pages",
        "--compress=0",
        "--output", output.toString()));
    Path java = output.resolve("bin/java");
    if (!Files.isExecutable(java)) {
      throw new IllegalStateException("jlink produced no executable " + java);
    }
  }

  /**
   * Strips the symbol table from libjvm.so (the only large unstripped library in Debian's JDK).
   *
   * @return false when {@code strip} is not installed (binutils); the image then stays correct, ~4 MB larger
   */
  static boolean stripJvm(Path image) throws IOException {
    Optional<Path> strip = ExternalCommand.onPath("strip");
    if (strip.isEmpty()) {
      return false;
    }
    Path libjvm = image.resolve("lib/server/libjvm.so");
    if (!Files.isRegularFile(libjvm)) {
      throw new IllegalStateException(libjvm + " is missing from the linked runtime");
    }
    libjvm.toFile().setWritable(true, true);
    ExternalCommand.run(List.of(strip.get().toString(), "--strip-unneeded", libjvm.toString()));
    return true;
  }
}
