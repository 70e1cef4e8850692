package io.decodefleet.agent.observability;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * How a process's logs are written (both CLIs' {@code --log-format}): as configured in logback.xml
 * (TEXT: one human line each), or one JSON object per line (JSON) through logback's own {@link
 * JsonEncoder}: level, logger, thread, timestamp, the MDC (a request's lines carry {@link
 * RequestLogContext#KEY}), the message as written and with its arguments filled in, and any throwable.
 * Either way logs go to stderr, the console's stdout being the results'.
 */
public enum LogFormat {
  TEXT,
  JSON;

  /**
   * "text" or "json", any case.
   *
   * @throws IllegalArgumentException one line naming what was given
   */
  public static LogFormat parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    return switch (t) {
      case "text" -> TEXT;
      case "json" -> JSON;
      default -> throw new IllegalArgumentException("--log-format must be text or json, got '" + text + "'");
    };
  }

  /**
   * Makes this process log in this format from now on: JSON replaces the root logger's appenders
   * with one JSON appender on stderr (levels stay as configured); TEXT leaves logback as configured.
   * Does nothing where SLF4J is not bound to logback.
   */
  public void apply() {
    if (this == TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return;
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.setWithFormattedMessage(true);
    encoder.setWithSequenceNumber(false);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("JSON");
    appender.setTarget("System.err");
    appender.setEncoder(encoder);
    appender.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }
}
