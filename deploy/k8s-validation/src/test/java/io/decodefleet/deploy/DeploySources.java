package io.decodefleet.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the deployment sources are in this repository: the manifests (deploy/k8s), the Dockerfiles
 * (deploy/docker) and the distribution's launchers and tarball (deploy/dist). The module's build passes
 * the repository root and the project version as system properties.
 */
final class DeploySources {
  private DeploySources() {}

  static Path root() {
    String root = System.getProperty("decodefleet.repository.root");
    if (root == null) {
      throw new IllegalStateException("system property decodefleet.repository.root is not set (run through Maven)");
    }
    return Path.of(root).toAbsolutePath().normalize();
  }

  static Path k8s() {
    return existing(root().resolve("deploy/k8s"));
  }

  static Path docker() {
    return existing(root().resolve("deploy/docker"));
  }

  /** The launchers the distribution copies into its bin/ (deploy/dist/src/main/dist/bin). */
  static Path launchers() {
    return existing(root().resolve("deploy/dist/src/main/dist/bin"));
  }

  static String version() {
    String version = System.getProperty("decodefleet.version");
    if (version == null) throw new IllegalStateException("system property decodefleet.version is not set");
    return version;
  }

  /** decodefleet-&lt;version&gt;-linux-x86_64.tar.xz as deploy/dist builds it; it may not exist yet. */
  static Path tarball() {
    String tarball = System.getProperty("decodefleet.dist.tarball");
    if (tarball == null) throw new IllegalStateException("system property decodefleet.dist.tarball is not set");
    return Path.of(tarball).toAbsolutePath().normalize();
  }

  private static Path existing(Path path) {
    if (!Files.isDirectory(path)) throw new IllegalStateException(path + " is missing");
    return path;
  }
}
