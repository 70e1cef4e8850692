package io.decodefleet.coordinator.security;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.pki.pem.DERPrivateKeyLoader;
import org.apache.pekko.pki.pem.PEMDecoder;

/**
 * A server certificate chain and its private key from the PEM files an operator has (what openssl,
 * cert-manager and a Kubernetes TLS Secret's tls.crt / tls.key hold). The key may be PKCS#8
 * ("PRIVATE KEY": RSA, EC or Ed25519), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"), not
 * encrypted. Every problem is one line naming the option: a missing file, no certificate, an expired
 * one, an encrypted key, a key that is not the certificate's.
 */
record PemKeyPair(List<X509Certificate> chain, PrivateKey key) {
  private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----",
      Pattern.DOTALL);
  /** id-ecPublicKey (1.2.840.10045.2.1) as a DER object identifier. */
  private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  /**
   * @param certOption and {@code keyOption}: the options that named the files, for messages
   * @throws IllegalArgumentException one line naming the option at fault
   */
  static PemKeyPair read(String certOption, Path certFile, String keyOption, Path keyFile) {
    List<X509Certificate> chain = certificates(certOption, certFile);
    PrivateKey key = privateKey(keyOption, keyFile, chain.get(0).getPublicKey().getAlgorithm());
    if (!pairs(key, chain.get(0).getPublicKey())) {
      throw new IllegalArgumentException(keyOption + ": " + keyFile + " is not the key of the certificate in "
          + certFile);
    }
    return new PemKeyPair(chain, key);
  }

  private static List<X509Certificate> certificates(String option, Path file) {
    byte[] pem = readFile(option, file);
    List<X509Certificate> chain = new ArrayList<>();
    try {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      for (Certificate c : x509.generateCertificates(new ByteArrayInputStream(pem))) chain.add((X509Certificate) c);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(option + ": " + file + " is not a PEM certificate (chain): " + e.getMessage());
    }
    if (chain.isEmpty()) throw new IllegalArgumentException(option + ": " + file + " holds no certificate");
    X509Certificate leaf = chain.get(0);
    try {
      leaf.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new IllegalArgumentException(option + ": the certificate in " + file + " expired on "
          + leaf.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new IllegalArgumentException(option + ": the certificate in " + file + " is not valid before "
          + leaf.getNotBefore().toInstant());
    }
    return chain;
  }

  private static PrivateKey privateKey(String option, Path file, String certificateAlgorithm) {
    String text = new String(readFile(option, file), StandardCharsets.US_ASCII);
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String label = m.group(1);
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2).strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(option + ": " + file + ": the " + label + " block is not base64");
      }
      if (label.equals("ENCRYPTED PRIVATE KEY")) {
        throw new IllegalArgumentException(option + ": the key in " + file + " is encrypted; give it decrypted "
            + "(openssl pkey -in " + file + " -out key.pem), readable only by this user");
      }
      if (!label.endsWith("PRIVATE KEY")) continue; // "EC PARAMETERS" before the key, certificates beside it
      try {
        return switch (label) {
          case "PRIVATE KEY" -> KeyFactory.getInstance(certificateAlgorithm)
              .generatePrivate(new PKCS8EncodedKeySpec(der));
          case "RSA PRIVATE KEY" -> DERPrivateKeyLoader.load(PEMDecoder.decode(m.group()));
          case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC")
              .generatePrivate(new PKCS8EncodedKeySpec(sec1ToPkcs8(der)));
          default -> throw new IllegalArgumentException("a " + label + " is no format read here (PKCS#8, PKCS#1, SEC1)");
        };
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException(option + ": the " + label + " in " + file + " is not a "
            + certificateAlgorithm + " key matching the certificate: " + e.getMessage());
      }
    }
    throw new IllegalArgumentException(option + ": " + file + " holds no PEM private key");
  }

  /**
   * SEC1 ECPrivateKey (RFC 5915: version, key, [0] curve, [1] public key) wrapped as PKCS#8, which is
   * what the JDK reads: the curve moves from the [0] field into the algorithm identifier.
   */
  static byte[] sec1ToPkcs8(byte[] sec1) {
    Der outer = Der.at(sec1, 0);
    if (outer.tag != 0x30) throw new IllegalArgumentException("not a DER sequence");
    byte[] curve = null;
    for (int p = outer.contentStart; p < outer.end; ) {
      Der field = Der.at(sec1, p);
      if (field.tag == (byte) 0xa0) curve = java.util.Arrays.copyOfRange(sec1, field.contentStart, field.end);
      p = field.end;
    }
    if (curve == null) throw new IllegalArgumentException("no named curve in the key (the [0] parameters)");
    byte[] algorithm = Der.encode(0x30, concat(EC_PUBLIC_KEY_OID, curve));
    return Der.encode(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, Der.encode(0x04, sec1)));
  }

  private static boolean pairs(PrivateKey key, PublicKey certified) {
    String algorithm = switch (certified.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "EdDSA" -> "EdDSA";
      case "Ed25519" -> "Ed25519";
      case "Ed448" -> "Ed448";
      case "RSASSA-PSS" -> "RSASSA-PSS";
      default -> null;
    };
    if (algorithm == null || algorithm.equals("RSASSA-PSS")) return true; // the handshake will tell
    try {
      byte[] probe = "decodefleet".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(certified);
      verify.update(probe);
      return verify.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] readFile(String option, Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(option + ": no such file " + file);
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(option + ": cannot read " + file + " (permission denied)");
    } catch (IOException e) {
      throw new IllegalArgumentException(option + ": cannot read " + file + ": " + e.getMessage());
    }
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  /** One DER element: its tag, where its content starts and where it ends. */
  private record Der(byte tag, int contentStart, int end) {
    static Der at(byte[] der, int offset) {
      if (offset + 2 > der.length) throw new IllegalArgumentException("truncated DER");
      int length = der[offset + 1] & 0xff;
      int start = offset + 2;
      if (length >= 0x80) {
        int bytes = length & 0x7f;
        if (bytes < 1 || bytes > 3 || start + bytes > der.length) throw new IllegalArgumentException("bad DER length");
        length = 0;
        for (int i = 0; i < bytes; i++) length = (length << 8) | (der[start + i] & 0xff);
        start += bytes;
      }
      if (start + length > der.length) throw new IllegalArgumentException("truncated DER");
      return new Der(der[offset], start, start + length);
    }

    static byte[] encode(int tag, byte[] content) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(tag);
      int n = content.length;
      if (n < 0x80) {
        out.write(n);
      } else if (n < 0x100) {
        out.write(0x81);
        out.write(n);
      } else if (n < 0x10000) {
        out.write(0x82);
        out.write(n >> 8);
        out.write(n);
      } else {
        out.write(0x83);
        out.write(n >> 16);
        out.write(n >> 8);
        out.write(n);
      }
      out.writeBytes(content);
      return out.toByteArray();
    }
  }
}
