package io.decodefleet.coordinator.admission;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.http.javadsl.model.HttpHeader;

/**
 * What one request may bring to an API port of {@code serve}, the gRPC one and the HTTP one alike: its
 * body (an HTTP request's JSON, a gRPC message) and its headers (HTTP headers, gRPC metadata). A
 * request over a limit is refused (HTTP 413 or 431, gRPC RESOURCE_EXHAUSTED) and not read on into
 * memory.
 *
 * <p>The HTTP server's own parser keeps limits of its own beside these checks, past which a request is
 * not parsed at all: on the HTTP port a header name over 64 characters or a value over 8 KiB (431), a
 * URI over 2 KiB (414) and, far above {@link #MAX_HEADERS}, {@link #PARSER_MAX_HEADERS} header fields
 * (400); on the gRPC port, where HTTP/2 can only close the connection, limits above these checks (see
 * {@code GrpcRequestLimits}).
 */
public final class RequestSizeLimits {
  /** Largest HTTP request body, and largest gRPC request message, in bytes. */
  public static final long MAX_BODY_BYTES = 4L << 20;
  /** Most header fields (gRPC metadata entries) one request may have. */
  public static final int MAX_HEADERS = 64;
  /** Most bytes of header field names and values together, in one request. */
  public static final int MAX_HEADER_BYTES = 16 << 10;
  /** The HTTP parser's header count, past which it parses no further. */
  public static final int PARSER_MAX_HEADERS = 4 * MAX_HEADERS;

  private RequestSizeLimits() {}

  /** Why a request's headers are over the limits, or null when they are within them. */
  public static String headersExcess(Iterable<HttpHeader> headers) {
    int count = 0;
    long bytes = 0;
    for (HttpHeader h : headers) {
      count++;
      // Header octets arrive as ISO-8859-1: one char each.
      bytes += h.name().length() + h.value().length();
    }
    if (count > MAX_HEADERS) return count + " header fields, more than the limit of " + MAX_HEADERS;
    if (bytes > MAX_HEADER_BYTES) {
      return bytes + " bytes of header fields, more than the limit of " + MAX_HEADER_BYTES;
    }
    return null;
  }

  /** The HTTP server's parser settings of an API port: the backstop above {@link #MAX_HEADERS}. */
  public static Config parserSettings() {
    return ConfigFactory.parseString("pekko.http.server.parsing.max-header-count = " + PARSER_MAX_HEADERS);
  }
}
