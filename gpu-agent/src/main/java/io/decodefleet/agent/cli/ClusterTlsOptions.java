package io.decodefleet.agent.cli;

import io.decodefleet.agent.ClusterTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Both CLIs' cluster TLS ({@code --cluster-tls} with a key store and a trust store), checked before
 * any node starts: a store that is missing, unreadable, not a key store, opened with the wrong
 * password, holding no key (or no certificate to trust) or an expired certificate is one line naming
 * the option. Passwords never come on the command line, where {@code ps} shows them: from a file
 * (a mounted Secret) or from an environment variable.
 */
public final class ClusterTlsOptions {
  public static final String KEY_STORE_PASSWORD = "DECODEFLEET_CLUSTER_KEY_STORE_PASSWORD";
  public static final String TRUST_STORE_PASSWORD = "DECODEFLEET_CLUSTER_TRUST_STORE_PASSWORD";

  @Option(names = "--cluster-tls", defaultValue = "${env:DECODEFLEET_CLUSTER_TLS:-false}",
      description = "Talk to the other nodes over TLS, both ends showing a certificate the other trusts "
          + "(env DECODEFLEET_CLUSTER_TLS=true). Every node of the cluster needs it; see docs/security.md.")
  public boolean enabled;

  @Option(names = "--cluster-key-store", paramLabel = "FILE", defaultValue = "${env:DECODEFLEET_CLUSTER_KEY_STORE}",
      description = "PKCS12 (or JKS) key store holding this node's key and certificate (env "
          + "DECODEFLEET_CLUSTER_KEY_STORE).")
  public Path keyStore;

  @Option(names = "--cluster-key-store-password-file", paramLabel = "FILE",
      defaultValue = "${env:DECODEFLEET_CLUSTER_KEY_STORE_PASSWORD_FILE}",
      description = "File holding the key store's password (one trailing newline ignored); or set "
          + KEY_STORE_PASSWORD + ".")
  public Path keyStorePasswordFile;

  @Option(names = "--cluster-trust-store", paramLabel = "FILE", defaultValue = "${env:DECODEFLEET_CLUSTER_TRUST_STORE}",
      description = "PKCS12 (or JKS) trust store: the certificates (a CA) that other nodes' certificates must chain "
          + "to (env DECODEFLEET_CLUSTER_TRUST_STORE).")
  public Path trustStore;

  @Option(names = "--cluster-trust-store-password-file", paramLabel = "FILE",
      defaultValue = "${env:DECODEFLEET_CLUSTER_TRUST_STORE_PASSWORD_FILE}",
      description = "File holding the trust store's password; or set " + TRUST_STORE_PASSWORD + ".")
  public Path trustStorePasswordFile;

  /**
   * The cluster transport these options ask for, its stores opened and checked.
   *
   * @param environment the process environment (the passwords' variables)
   * @throws IllegalArgumentException one line naming the option at fault
   */
  public ClusterTls resolve(Map<String, String> environment) {
    if (!enabled) {
      String stray = keyStore != null ? "--cluster-key-store" : trustStore != null ? "--cluster-trust-store"
          : keyStorePasswordFile != null ? "--cluster-key-store-password-file"
          : trustStorePasswordFile != null ? "--cluster-trust-store-password-file" : null;
      if (stray != null) throw new IllegalArgumentException(stray + " is given but --cluster-tls is not");
      return ClusterTls.plaintext();
    }
    if (keyStore == null) throw new IllegalArgumentException("--cluster-tls needs --cluster-key-store FILE");
    if (trustStore == null) throw new IllegalArgumentException("--cluster-tls needs --cluster-trust-store FILE");
    String keyPassword = password("--cluster-key-store-password-file", keyStorePasswordFile, KEY_STORE_PASSWORD,
        environment);
    String trustPassword = password("--cluster-trust-store-password-file", trustStorePasswordFile,
        TRUST_STORE_PASSWORD, environment);
    KeyStore keys = open("--cluster-key-store", keyStore, keyPassword);
    checkKey(keys, keyPassword);
    KeyStore trusted = open("--cluster-trust-store", trustStore, trustPassword);
    checkTrusted(trusted);
    return ClusterTls.mutual(keyStore, keyPassword, trustStore, trustPassword);
  }

  /** A password from its file, else from its environment variable; exactly one of them. */
  static String password(String option, Path file, String variable, Map<String, String> environment) {
    String fromEnvironment = environment.get(variable);
    if (file != null && fromEnvironment != null) {
      throw new IllegalArgumentException(option + " and " + variable + " are both given: give one");
    }
    if (file == null && fromEnvironment == null) {
      throw new IllegalArgumentException("--cluster-tls needs " + option + " FILE or the environment variable "
          + variable);
    }
    String password;
    if (file != null) {
      try {
        password = Files.readString(file, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException(option + ": no such file " + file);
      } catch (AccessDeniedException e) {
        throw new IllegalArgumentException(option + ": cannot read " + file + " (permission denied)");
      } catch (IOException e) {
        throw new IllegalArgumentException(option + ": cannot read " + file + ": " + e.getMessage());
      }
      // `echo secret > file` ends it with a newline that is no part of the password.
      password = password.endsWith("\r\n") ? password.substring(0, password.length() - 2)
          : password.endsWith("\n") ? password.substring(0, password.length() - 1) : password;
    } else {
      password = fromEnvironment;
    }
    if (password.isEmpty()) {
      throw new IllegalArgumentException((file != null ? option + " " + file : variable) + " is empty");
    }
    return password;
  }

  /** The store at {@code file}, PKCS12 or JKS (as the JDK's key store loader tells them apart). */
  static KeyStore open(String option, Path file, String password) {
    if (!Files.exists(file)) throw new IllegalArgumentException(option + ": no such file " + file);
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException(option + ": " + file + " is not a file");
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(option + ": cannot read " + file + " (permission denied)");
    }
    try {
      return KeyStore.getInstance(file.toFile(), password.toCharArray());
    } catch (KeyStoreException e) {
      throw new IllegalArgumentException(option + ": " + file + " is not a PKCS12 or JKS key store");
    } catch (IOException e) {
      if (e.getCause() instanceof UnrecoverableKeyException) {
        throw new IllegalArgumentException(option + ": wrong password for " + file);
      }
      throw new IllegalArgumentException(option + ": cannot open " + file + ": " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(option + ": cannot open " + file + ": " + e.getMessage());
    }
  }

  /** A key store must hold a private key that opens with its password, under a certificate still valid. */
  private void checkKey(KeyStore store, String password) {
    try {
      for (String alias : Collections.list(store.aliases())) {
        if (!store.isKeyEntry(alias)) continue;
        try {
          if (store.getKey(alias, password.toCharArray()) == null) continue;
        } catch (UnrecoverableKeyException e) {
          throw new IllegalArgumentException("--cluster-key-store: the key '" + alias + "' in " + keyStore
              + " does not open with the key store's password");
        }
        if (store.getCertificate(alias) instanceof X509Certificate certificate) checkValid(certificate, alias);
        return;
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("--cluster-key-store: cannot read " + keyStore + ": " + e.getMessage());
    }
    throw new IllegalArgumentException("--cluster-key-store: " + keyStore + " holds no private key");
  }

  private void checkValid(X509Certificate certificate, String alias) {
    try {
      certificate.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new IllegalArgumentException("--cluster-key-store: the certificate '" + alias + "' in " + keyStore
          + " expired on " + certificate.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new IllegalArgumentException("--cluster-key-store: the certificate '" + alias + "' in " + keyStore
          + " is not valid before " + certificate.getNotBefore().toInstant());
    }
  }

  private void checkTrusted(KeyStore store) {
    try {
      for (String alias : Collections.list(store.aliases())) {
        if (store.getCertificate(alias) != null) return;
      }
    } catch (KeyStoreException e) {
      throw new IllegalArgumentException("--cluster-trust-store: cannot read " + trustStore + ": " + e.getMessage());
    }
    throw new IllegalArgumentException("--cluster-trust-store: " + trustStore + " holds no certificate to trust");
  }
}
