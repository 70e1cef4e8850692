package io.decodefleet.coordinator.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.decodefleet.agent.ExposedPorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The API ports' protection: PEM keys in the formats operators have (PKCS#8 from the JDK; SEC1 and
 * PKCS#1 from openssl where it is installed), the API key's comparison, and the start-up warning.
 */
class ApiAccessTest {
  @TempDir
  static Path dir;
  private static ThrowawayPki pki;

  @BeforeAll
  static void certificates() throws Exception {
    pki = ThrowawayPki.shared();
  }

  @Test
  void aPkcs8KeyAndItsCertificateMakeTls() {
    ApiAccess access = ApiAccess.tls("--tls-cert", pki.serverCertPem(), "--tls-key", pki.serverKeyPem(), ApiKey.none());
    assertTrue(access.encrypted());
    assertEquals("https", access.scheme());
    assertTrue(access.describe().startsWith("TLS (CN=decodefleet-node, valid until "), access.describe());
    assertTrue(access.describe().endsWith(", no API key"), access.describe());
  }

  @Test
  void sec1AndPkcs1KeysAsOpensslWritesThemAreRead() throws Exception {
    assumeTrue(onPath("openssl"), "openssl is not installed");
    Path ecKey = dir.resolve("ec.key");
    Path ecCert = dir.resolve("ec.crt");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", ecKey.toString()); // EC PARAMETERS + EC PRIVATE KEY
    openssl("req", "-x509", "-new", "-key", ecKey.toString(), "-subj", "/CN=ec", "-days", "1", "-out", ecCert.toString());
    assertTrue(Files.readString(ecKey).contains("BEGIN EC PRIVATE KEY"));
    assertTrue(ApiAccess.tls("--tls-cert", ecCert, "--tls-key", ecKey, ApiKey.none()).encrypted());

    Path rsaKey = dir.resolve("rsa.key");
    Path rsaCert = dir.resolve("rsa.crt");
    openssl("genrsa", "-traditional", "-out", rsaKey.toString(), "2048");
    openssl("req", "-x509", "-new", "-key", rsaKey.toString(), "-subj", "/CN=rsa", "-days", "1", "-out",
        rsaCert.toString());
    assertTrue(Files.readString(rsaKey).contains("BEGIN RSA PRIVATE KEY"));
    assertTrue(ApiAccess.tls("--tls-cert", rsaCert, "--tls-key", rsaKey, ApiKey.none()).encrypted());
  }

  @Test
  void theKeyAdmitsExactlyItsBearerHeader() {
    ApiKey key = ApiKey.of(Optional.of("sk-1"));
    assertTrue(key.required());
    assertTrue(key.admits(Optional.of("Bearer sk-1")));
    assertFalse(key.admits(Optional.of("Bearer sk-10")));
    assertFalse(key.admits(Optional.of("Bearer sk-")));
    assertFalse(key.admits(Optional.of("sk-1")));
    assertFalse(key.admits(Optional.empty()));
    assertTrue(ApiKey.none().admits(Optional.empty()));
  }

  @Test
  void anApiOnAWildcardAddressSaysWhatItLacksAndLoopbackOrProtectedSaysNothing() {
    Logger logger = (Logger) LoggerFactory.getLogger(ExposedPorts.class);
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    logger.addAppender(seen);
    try {
      ApiAccess.plaintext(ApiKey.none()).warnIfExposed("the gRPC API", "127.0.0.1", 50051);
      ApiAccess.tls("--tls-cert", pki.serverCertPem(), "--tls-key", pki.serverKeyPem(), ApiKey.of(Optional.of("k")))
          .warnIfExposed("the gRPC API", "0.0.0.0", 50051);
      assertTrue(seen.list.isEmpty(), seen.list.toString());
      ApiAccess.plaintext(ApiKey.none()).warnIfExposed("the gRPC API", "0.0.0.0", 50051);
      ApiAccess.plaintext(ApiKey.of(Optional.of("k"))).warnIfExposed("the OpenAI API", "0.0.0.0", 8000);
      List<String> lines = seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      assertEquals(List.of("the gRPC API on 0.0.0.0:50051 is plaintext and takes no API key: anyone on the path reads "
              + "prompts and outputs, anyone who reaches it uses the fleet; give --tls-cert, --tls-key and --api-key "
              + "(docs/security.md)",
          "the OpenAI API on 0.0.0.0:8000 is plaintext: anyone on the path reads prompts, outputs and the API key; "
              + "give --tls-cert and --tls-key (docs/security.md)"), lines);
    } finally {
      logger.detachAppender(seen);
    }
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, tool))) return true;
    }
    return false;
  }

  private static void openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + out.strip());
    }
  }
}
