package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.decodefleet.agent.ClusterTls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gpu-agent's --cluster-tls: stores that cannot serve are one line on stderr and exit 2 before any
 * node starts; good stores become Artery's tls-tcp transport with mutual authentication.
 */
class ClusterTlsOptionsTest {
  private static final String PASSWORD = "store-secret";
  private static final String SEEDS = "--seed-nodes 127.0.0.1:1 ";

  @TempDir
  static Path dir;
  private static Path keyStore;
  private static Path trustStore;
  private static Path passwordFile;

  /** A node key store (one self-signed key) and a trust store holding its certificate, by keytool. */
  @BeforeAll
  static void stores() throws Exception {
    keyStore = dir.resolve("node.p12");
    trustStore = dir.resolve("trust.p12");
    Path cert = dir.resolve("node.pem");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=node", "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD,
        "-keypass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "node", "-keystore", keyStore.toString(), "-storepass", PASSWORD,
        "-file", cert.toString());
    keytool("-importcert", "-noprompt", "-alias", "node", "-file", cert.toString(), "-keystore", trustStore.toString(),
        "-storetype", "PKCS12", "-storepass", PASSWORD);
    passwordFile = Files.writeString(dir.resolve("password"), PASSWORD + "\n");
  }

  private static String tls(Path key, Path trust) {
    return SEEDS + "--cluster-tls --cluster-key-store " + key + " --cluster-trust-store " + trust + " ";
  }

  private static String files() {
    return "--cluster-key-store-password-file " + passwordFile + " --cluster-trust-store-password-file " + passwordFile;
  }

  private record Result(int code, List<String> err) {}

  private static Result run(Map<String, String> environment, String args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = GpuAgentCli.run(environment, args.strip().split("\\s+"));
      return new Result(rc, err.toString(StandardCharsets.UTF_8).lines().toList());
    } finally {
      System.setErr(saved);
    }
  }

  private static void assertRefused(String expected, Map<String, String> environment, String args) {
    Result r = run(environment, args);
    assertEquals(2, r.code(), r.err().toString());
    assertEquals(List.of("gpu-agent: " + expected), r.err());
  }

  @Test
  void aMissingKeyStoreIsOneLine() {
    Path missing = dir.resolve("absent.p12");
    assertRefused("--cluster-key-store: no such file " + missing, Map.of(), tls(missing, trustStore) + files());
  }

  @Test
  void aWrongKeyStorePasswordIsOneLine() {
    assertRefused("--cluster-key-store: wrong password for " + keyStore,
        Map.of(ClusterTlsOptions.KEY_STORE_PASSWORD, "not-it", ClusterTlsOptions.TRUST_STORE_PASSWORD, PASSWORD),
        tls(keyStore, trustStore));
  }

  @Test
  void aWrongTrustStorePasswordIsOneLine() {
    assertRefused("--cluster-trust-store: wrong password for " + trustStore,
        Map.of(ClusterTlsOptions.KEY_STORE_PASSWORD, PASSWORD, ClusterTlsOptions.TRUST_STORE_PASSWORD, "not-it"),
        tls(keyStore, trustStore));
  }

  @Test
  void aFileThatIsNoKeyStoreIsOneLine() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a key store\n");
    assertRefused("--cluster-key-store: " + text + " is not a PKCS12 or JKS key store", Map.of(),
        tls(text, trustStore) + files());
  }

  @Test
  void aTrustStoreGivenAsTheKeyStoreHoldsNoKey() {
    assertRefused("--cluster-key-store: " + trustStore + " holds no private key", Map.of(),
        tls(trustStore, trustStore) + files());
  }

  @Test
  void theKeyStorePasswordMustComeFromAFileOrTheEnvironment() {
    assertRefused("--cluster-tls needs --cluster-key-store-password-file FILE or the environment variable "
        + ClusterTlsOptions.KEY_STORE_PASSWORD, Map.of(), tls(keyStore, trustStore)
        + "--cluster-trust-store-password-file " + passwordFile);
    Path missing = dir.resolve("no-password");
    assertRefused("--cluster-key-store-password-file: no such file " + missing, Map.of(), tls(keyStore, trustStore)
        + "--cluster-key-store-password-file " + missing + " --cluster-trust-store-password-file " + passwordFile);
    assertRefused("--cluster-key-store-password-file and " + ClusterTlsOptions.KEY_STORE_PASSWORD
        + " are both given: give one", Map.of(ClusterTlsOptions.KEY_STORE_PASSWORD, PASSWORD),
        tls(keyStore, trustStore) + files());
  }

  @Test
  void storesWithoutClusterTlsAreRefusedRatherThanIgnored() {
    assertRefused("--cluster-key-store is given but --cluster-tls is not", Map.of(),
        SEEDS + "--cluster-key-store " + keyStore);
  }

  @Test
  void goodStoresTurnOnArteryTlsWithMutualAuthentication() {
    ClusterTlsOptions options = new ClusterTlsOptions();
    options.enabled = true;
    options.keyStore = keyStore;
    options.trustStore = trustStore;
    options.keyStorePasswordFile = passwordFile;
    ClusterTls tls = options.resolve(Map.of(ClusterTlsOptions.TRUST_STORE_PASSWORD, PASSWORD));
    assertTrue(tls.enabled());
    Config c = tls.config();
    assertEquals("tls-tcp", c.getString("pekko.remote.artery.transport"));
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    assertTrue(c.getBoolean(engine + "require-mutual-authentication"));
    assertEquals(keyStore.toAbsolutePath().toString(), c.getString(engine + "key-store"));
    assertEquals(PASSWORD, c.getString(engine + "key-store-password"), "the file's trailing newline is not the password's");
    assertEquals(PASSWORD, c.getString(engine + "key-password"));
    assertEquals(trustStore.toAbsolutePath().toString(), c.getString(engine + "trust-store"));
    assertFalse(tls.toString().contains(PASSWORD), "a password in a log line");
    assertTrue(ClusterTls.plaintext().config().isEmpty());
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    // keytool is a JVM of its own per step: start it the cheap way
    command.addAll(List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + args[0] + " failed: " + out.strip());
    }
  }
}
