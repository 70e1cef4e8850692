package io.decodefleet.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A throw-away server certificate for the stub API server, made with the JDK's keytool: an EC P-256
 * key, self-signed, valid for 127.0.0.1 (the client checks the address against the certificate as it
 * does the real API server's). The PEM file plays the service account's ca.crt.
 */
final class SelfSignedCertificate {
  private static final String PASSWORD = "decodefleet-test";

  private final Path keyStore;
  private final Path pem;

  private SelfSignedCertificate(Path keyStore, Path pem) {
    this.keyStore = keyStore;
    this.pem = pem;
  }

  static SelfSignedCertificate create(Path dir) throws IOException, InterruptedException {
    Path keyStore = dir.resolve("apiserver.p12");
    Path pem = dir.resolve("ca.crt");
    keytool("-genkeypair", "-alias", "apiserver", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=kube-apiserver", "-ext", "SAN=ip:127.0.0.1,dns:kubernetes.default.svc",
        "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "apiserver", "-keystore", keyStore.toString(), "-storepass", PASSWORD,
        "-file", pem.toString());
    return new SelfSignedCertificate(keyStore, pem);
  }

  Path pem() {
    return pem;
  }

  SSLContext serverContext() throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      store.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + args[0] + " failed: " + out.strip());
    }
  }
}
