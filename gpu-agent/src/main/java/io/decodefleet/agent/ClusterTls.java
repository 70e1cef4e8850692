package io.decodefleet.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * How the nodes of a cluster talk to each other: plaintext TCP, or TLS on which both ends show a
 * certificate the other trusts (Artery's {@code tls-tcp} transport with mutual authentication). With
 * TLS a node joins only if its key store holds a key whose certificate chains to a certificate in the
 * other nodes' trust stores: the trust store names who may be a member.
 *
 * <p>Host names are not verified: nodes find each other by IP (pod IPs on Kubernetes), which a
 * certificate made ahead of time cannot name. The trust store is the check, so it should hold a CA
 * that signs only this cluster's node certificates.
 */
public final class ClusterTls {
  private static final ClusterTls PLAINTEXT = new ClusterTls(null, null, null, null);

  private final Path keyStore;
  private final String keyStorePassword;
  private final Path trustStore;
  private final String trustStorePassword;

  private ClusterTls(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword) {
    this.keyStore = keyStore;
    this.keyStorePassword = keyStorePassword;
    this.trustStore = trustStore;
    this.trustStorePassword = trustStorePassword;
  }

  /** Plaintext: any host that reaches the cluster port can join. */
  public static ClusterTls plaintext() {
    return PLAINTEXT;
  }

  /**
   * TLS with mutual authentication. The stores are PKCS12 (or JKS) files already checked to open
   * with their passwords; the key's own password is the key store's, as keytool and openssl make them.
   */
  public static ClusterTls mutual(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword) {
    return new ClusterTls(keyStore.toAbsolutePath(), keyStorePassword, trustStore.toAbsolutePath(), trustStorePassword);
  }

  public boolean enabled() {
    return keyStore != null;
  }

  /** The settings that turn it on (highest precedence over decodefleet-cluster.conf); empty for plaintext. */
  public Config config() {
    if (!enabled()) return ConfigFactory.empty();
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    return ConfigFactory.parseMap(Map.of(
        "pekko.remote.artery.transport", "tls-tcp",
        "pekko.remote.artery.ssl.ssl-engine-provider", "org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider",
        engine + "key-store", keyStore.toString(),
        engine + "key-store-password", keyStorePassword,
        engine + "key-password", keyStorePassword,
        engine + "trust-store", trustStore.toString(),
        engine + "trust-store-password", trustStorePassword,
        engine + "require-mutual-authentication", "on",
        engine + "hostname-verification", "off"));
  }

  /** For start-up lines: what protects the cluster port. */
  public String describe() {
    return enabled() ? "TLS, mutual authentication (key store " + keyStore + ", trust store " + trustStore + ")"
        : "plaintext";
  }

  @Override
  public String toString() {
    return describe(); // never the passwords
  }
}
