package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.security.ThrowawayPki;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's cluster TLS (serve and the benchmark) and serve's API TLS: a store or PEM file
 * that cannot serve is one line on stderr and exit 2, before any node starts.
 */
class SecurityOptionsTest {
  @TempDir
  static Path dir;
  private static ThrowawayPki pki;

  @BeforeAll
  static void certificates() throws Exception {
    pki = ThrowawayPki.shared();
  }

  private record Result(int code, List<String> err) {}

  private static Result run(Map<String, String> environment, List<String> args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = CoordinatorCli.run(environment, args.toArray(String[]::new));
      return new Result(rc, err.toString(StandardCharsets.UTF_8).lines().toList());
    } finally {
      System.setErr(saved);
    }
  }

  private static List<String> args(List<String> first, List<String> then) {
    List<String> all = new ArrayList<>(first);
    all.addAll(then);
    return all;
  }

  private static void assertRefused(String expected, Map<String, String> environment, List<String> args) {
    Result r = run(environment, args);
    assertEquals(2, r.code(), r.err().toString());
    assertEquals(List.of(expected), r.err());
  }

  @Test
  void serveWithAMissingClusterKeyStoreIsOneLine() {
    Path missing = dir.resolve("absent.p12");
    assertRefused("coordinator serve: --cluster-key-store: no such file " + missing, Map.of(),
        args(List.of("serve", "--world-size", "1"), pki.clusterOptions(missing)));
  }

  @Test
  void theBenchmarkWithAWrongKeyStorePasswordIsOneLine() {
    assertRefused("coordinator: --cluster-key-store: wrong password for " + pki.nodeKeyStore(),
        Map.of("DECODEFLEET_CLUSTER_KEY_STORE_PASSWORD", "not-it",
            "DECODEFLEET_CLUSTER_TRUST_STORE_PASSWORD", ThrowawayPki.PASSWORD),
        List.of("--world-size", "1", "--cluster-tls", "--cluster-key-store", pki.nodeKeyStore().toString(),
            "--cluster-trust-store", pki.trustStore().toString()));
  }

  @Test
  void serveWithAMissingTrustStoreIsOneLine() {
    Path missing = dir.resolve("absent-trust.p12");
    assertRefused("coordinator serve: --cluster-trust-store: no such file " + missing, Map.of(),
        List.of("serve", "--world-size", "1", "--cluster-tls", "--cluster-key-store", pki.nodeKeyStore().toString(),
            "--cluster-key-store-password-file", pki.passwordFile().toString(), "--cluster-trust-store",
            missing.toString(), "--cluster-trust-store-password-file", pki.passwordFile().toString()));
  }

  @Test
  void theEmbeddedBenchmarkFormsItsLoopbackClusterOverTls() throws Exception {
    Path reports = java.nio.file.Files.createDirectories(dir.resolve("embedded-tls"));
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    Result r;
    try {
      r = run(Map.of(), args(List.of("--world-size", "2", "--num-requests", "4", "--prompt-len", "8:20",
          "--output-len", "3:6", "--report-dir", reports.toString()), pki.clusterOptions(pki.nodeKeyStore())));
    } finally {
      System.setOut(saved);
    }
    assertEquals(0, r.code(), r.err() + "\n" + out);
    String said = out.toString(StandardCharsets.UTF_8);
    assertTrue(said.contains("the cluster's nodes talk TLS, mutual authentication"), said);
    var point = io.decodefleet.coordinator.metrics.ReportJson.read(reports.resolve("report.json")).get("points").get(0);
    assertEquals(4, point.get("completed").asInt());
    assertEquals(2, point.get("agents").size(), "both agents of the loopback cluster served over TLS");
  }

  @Test
  void aMissingCertificateFileIsOneLine() {
    Path missing = dir.resolve("absent.crt");
    assertRefused("coordinator serve: --tls-cert: no such file " + missing, Map.of(), List.of("serve",
        "--world-size", "1", "--tls-cert", missing.toString(), "--tls-key", pki.serverKeyPem().toString()));
  }

  @Test
  void aCertificateNeedsItsKey() {
    assertRefused("coordinator serve: --tls-cert needs --tls-key (the certificate's private key)", Map.of(),
        List.of("serve", "--world-size", "1", "--tls-cert", pki.serverCertPem().toString()));
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsOneLineAlsoUnderVllmsOptionNames() {
    // The CA's certificate with the server's key: a pair that does not belong together.
    assertRefused("coordinator serve: --tls-key: " + pki.serverKeyPem() + " is not the key of the certificate in "
        + pki.caPem(), Map.of(), List.of("serve", "--world-size", "1", "--ssl-certfile", pki.caPem().toString(),
        "--ssl-keyfile", pki.serverKeyPem().toString()));
  }

  @Test
  void anEncryptedKeyIsOneLineSayingHowToDecryptIt() throws Exception {
    Path encrypted = Files.writeString(dir.resolve("encrypted.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertRefused("coordinator serve: --tls-key: the key in " + encrypted + " is encrypted; give it decrypted (openssl "
        + "pkey -in " + encrypted + " -out key.pem), readable only by this user", Map.of(), List.of("serve",
        "--world-size", "1", "--tls-cert", pki.serverCertPem().toString(), "--tls-key", encrypted.toString()));
  }
}
