package io.decodefleet.coordinator.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority made for one test run with the JDK's keytool (EC P-256, valid two days),
 * and what the tests hand to DecodeFleet:
 *
 * <ul>
 *   <li>{@link #nodeKeyStore()}: a node key and its certificate signed by the CA (PKCS12), which every
 *       trusted node of a test cluster shares;
 *   <li>{@link #trustStore()}: the CA's certificate alone (PKCS12): the cluster's members;
 *   <li>{@link #strangerKeyStore()}: a self-signed node key the CA never signed;
 *   <li>{@link #serverCertPem()} / {@link #serverKeyPem()}: the node certificate (valid for 127.0.0.1
 *       and localhost) and its key as PEM files for the API ports, {@link #caPem()} for clients.
 * </ul>
 *
 * All stores share {@link #PASSWORD}, also written to {@link #passwordFile()}. keytool takes a second or
 * two per step, so the test classes of one JVM share one ({@link #shared()}).
 */
public final class ThrowawayPki {
  public static final String PASSWORD = "decodefleet-test-pw";
  private static ThrowawayPki shared;

  private final Path dir;

  private ThrowawayPki(Path dir) {
    this.dir = dir;
  }

  /** The one of this JVM, made on first use in a temporary folder removed when the JVM exits. */
  public static synchronized ThrowawayPki shared() throws IOException, InterruptedException {
    if (shared == null) {
      Path dir = Files.createTempDirectory("decodefleet-pki");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
          // a temporary folder left behind
        }
      }));
      shared = create(dir);
    }
    return shared;
  }

  public static ThrowawayPki create(Path dir) throws IOException, InterruptedException {
    ThrowawayPki pki = new ThrowawayPki(dir);
    String ca = dir.resolve("ca.p12").toString();
    String node = pki.nodeKeyStore().toString();
    keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=DecodeFleet throw-away CA", "-ext", "bc:c", "-keystore", ca, "-storetype", "PKCS12",
        "-storepass", PASSWORD, "-keypass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", PASSWORD,
        "-file", pki.caPem().toString());
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=decodefleet-node", "-keystore", node, "-storetype", "PKCS12", "-storepass", PASSWORD,
        "-keypass", PASSWORD);
    Path request = dir.resolve("node.csr");
    keytool("-certreq", "-alias", "node", "-keystore", node, "-storepass", PASSWORD, "-file", request.toString());
    keytool("-gencert", "-alias", "ca", "-keystore", ca, "-storepass", PASSWORD, "-infile", request.toString(),
        "-outfile", pki.serverCertPem().toString(), "-rfc", "-validity", "2",
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "EKU=serverAuth,clientAuth");
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", pki.caPem().toString(), "-keystore", node,
        "-storepass", PASSWORD);
    keytool("-importcert", "-alias", "node", "-file", pki.serverCertPem().toString(), "-keystore", node,
        "-storepass", PASSWORD);
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", pki.caPem().toString(), "-keystore",
        pki.trustStore().toString(), "-storetype", "PKCS12", "-storepass", PASSWORD);
    keytool("-genkeypair", "-alias", "stranger", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=decodefleet-node", "-keystore", pki.strangerKeyStore().toString(), "-storetype", "PKCS12",
        "-storepass", PASSWORD, "-keypass", PASSWORD);
    Files.writeString(pki.passwordFile(), PASSWORD + "\n");
    pki.writeServerKeyPem();
    return pki;
  }

  public Path nodeKeyStore() {
    return dir.resolve("node.p12");
  }

  public Path trustStore() {
    return dir.resolve("trust.p12");
  }

  public Path strangerKeyStore() {
    return dir.resolve("stranger.p12");
  }

  public Path passwordFile() {
    return dir.resolve("store.password");
  }

  public Path caPem() {
    return dir.resolve("ca.pem");
  }

  public Path serverCertPem() {
    return dir.resolve("server.crt");
  }

  public Path serverKeyPem() {
    return dir.resolve("server.key");
  }

  /** The cluster options of a node holding {@code keyStore}, passwords from the file. */
  public List<String> clusterOptions(Path keyStore) {
    return List.of("--cluster-tls", "--cluster-key-store", keyStore.toString(),
        "--cluster-key-store-password-file", passwordFile().toString(),
        "--cluster-trust-store", trustStore().toString(),
        "--cluster-trust-store-password-file", passwordFile().toString());
  }

  /** keytool cannot export a private key: the node's, as PKCS#8 PEM, from its key store. */
  private void writeServerKeyPem() throws IOException {
    try (InputStream in = Files.newInputStream(nodeKeyStore())) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, PASSWORD.toCharArray());
      Key key = store.getKey("node", PASSWORD.toCharArray());
      Files.writeString(serverKeyPem(), "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n");
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the node key back: " + e, e);
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    // keytool is a JVM of its own per step: start it the cheap way
    command.addAll(List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out.strip());
    }
  }
}
