package io.decodefleet.coordinator.cli;

import io.decodefleet.coordinator.security.ApiAccess;
import io.decodefleet.coordinator.security.ApiKey;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** serve's API protection: TLS on the gRPC and HTTP ports from PEM files, and the API key both require. */
final class ApiAccessOptions {

  @Option(names = {"--tls-cert", "--ssl-certfile"}, paramLabel = "FILE", defaultValue = "${env:DECODEFLEET_TLS_CERT}",
      description = "PEM certificate (chain, server first) of the gRPC and HTTP API ports: with --tls-key both speak "
          + "TLS (HTTPS; gRPC over HTTP/2 chosen by ALPN) (env DECODEFLEET_TLS_CERT; --ssl-certfile as vLLM names it).")
  Path cert;

  @Option(names = {"--tls-key", "--ssl-keyfile"}, paramLabel = "FILE", defaultValue = "${env:DECODEFLEET_TLS_KEY}",
      description = "PEM private key of --tls-cert, unencrypted (PKCS#8, PKCS#1 or SEC1) (env DECODEFLEET_TLS_KEY; "
          + "--ssl-keyfile as vLLM names it).")
  Path key;

  @Option(names = "--api-key", defaultValue = "${env:DECODEFLEET_API_KEY}",
      description = "Require 'Authorization: Bearer <key>' on every /v1 request and on every gRPC call (metadata "
          + "authorization), else 401 / UNAUTHENTICATED (env DECODEFLEET_API_KEY, which ps does not show).")
  String apiKey;

  /** The protection these options ask for, the PEM files read and checked. */
  ApiAccess resolve() {
    if (apiKey != null && apiKey.isBlank()) throw new UsageError("--api-key must not be blank");
    ApiKey required = ApiKey.of(Optional.ofNullable(apiKey));
    if (cert == null && key == null) return ApiAccess.plaintext(required);
    if (cert == null) throw new UsageError("--tls-key needs --tls-cert (the certificate of that key)");
    if (key == null) throw new UsageError("--tls-cert needs --tls-key (the certificate's private key)");
    try {
      return ApiAccess.tls("--tls-cert", cert, "--tls-key", key, required);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }
}
