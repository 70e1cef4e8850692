package io.decodefleet.coordinator.security;

import io.decodefleet.agent.ExposedPorts;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.ServerBuilder;

/**
 * How the API ports of {@code coordinator serve} (gRPC and the OpenAI HTTP API) are protected: TLS
 * from a PEM certificate and key, or plaintext; and the API key both require, or none. Over TLS the
 * gRPC port speaks HTTP/2 chosen by ALPN, as gRPC clients expect.
 */
public final class ApiAccess {
  private final SSLContext tls;
  private final String certificate;
  private final ApiKey key;

  private ApiAccess(SSLContext tls, String certificate, ApiKey key) {
    this.tls = tls;
    this.certificate = certificate;
    this.key = key;
  }

  public static ApiAccess plaintext(ApiKey key) {
    return new ApiAccess(null, null, key);
  }

  /**
   * TLS with the certificate chain in {@code certFile} and its key in {@code keyFile} (PEM).
   *
   * @param certOption and {@code keyOption}: the options that named them, for messages
   * @throws IllegalArgumentException one line naming the option at fault
   */
  public static ApiAccess tls(String certOption, Path certFile, String keyOption, Path keyFile, ApiKey key) {
    PemKeyPair pair = PemKeyPair.read(certOption, certFile, keyOption, keyFile);
    try {
      // The store lives only in this process, between the PEM files and the key manager.
      char[] inMemory = "decodefleet-api".toCharArray();
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("api", pair.key(), inMemory, pair.chain().toArray(X509Certificate[]::new));
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, inMemory);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      X509Certificate leaf = pair.chain().get(0);
      return new ApiAccess(context, leaf.getSubjectX500Principal().getName() + ", valid until "
          + leaf.getNotAfter().toInstant(), key);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException(certOption + ": cannot use " + certFile + " with " + keyFile + ": "
          + e.getMessage());
    }
  }

  public ApiKey key() {
    return key;
  }

  public boolean encrypted() {
    return tls != null;
  }

  /** "https" or "http", for the URLs the start-up lines print. */
  public String scheme() {
    return tls != null ? "https" : "http";
  }

  /** {@code server} with TLS turned on when it is. */
  public ServerBuilder serverAt(ServerBuilder server) {
    return tls == null ? server : server.enableHttps(ConnectionContext.httpsServer(tls));
  }

  /** For start-up lines, e.g. "TLS (CN=api.example), API key required". */
  public String describe() {
    return (tls != null ? "TLS (" + certificate + ")" : "plaintext") + ", "
        + (key.required() ? "API key required" : "no API key");
  }

  /**
   * One WARN line when {@code what}, bound to {@code host}, is reachable beyond this machine without
   * TLS or without an API key.
   */
  public void warnIfExposed(String what, String host, int port) {
    if (tls != null && key.required()) return;
    String lack = tls == null && !key.required()
        ? "is plaintext and takes no API key: anyone on the path reads prompts and outputs, anyone who reaches it "
            + "uses the fleet"
        : tls == null ? "is plaintext: anyone on the path reads prompts, outputs and the API key"
        : "takes no API key: anyone who reaches it uses the fleet";
    String remedy = tls == null && !key.required() ? "give --tls-cert, --tls-key and --api-key"
        : tls == null ? "give --tls-cert and --tls-key" : "give --api-key";
    ExposedPorts.warnIfExposed(what, host, port, lack, remedy);
  }
}
