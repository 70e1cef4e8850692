package io.decodefleet.coordinator.openai;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The OpenAI API port's answer to a request its HTTP parser refused before any handler saw it (a
 * header name or value over the parser's limit: 431, a URI too long: 414, far too many headers or a
 * malformed request: 400): the parser's status, in OpenAI's error shape. Pekko HTTP creates it by
 * name from the server settings ({@code pekko.http.server.parsing.error-handler}).
 */
public final class OpenAiParsingErrors extends ParsingErrorHandler {

  /** Pekko HTTP's reflective constructor. */
  public OpenAiParsingErrors() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    if (log.isDebugEnabled()) log.debug("refused a request the HTTP parser could not take: " + status + ": " + info.summary());
    String type = status.intValue() >= 500 ? "server_error" : "invalid_request_error";
    return OpenAiServer.error(status.intValue(), info.summary(), type, null, null);
  }
}
