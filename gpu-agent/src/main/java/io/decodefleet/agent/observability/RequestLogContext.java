package io.decodefleet.agent.observability;

import org.slf4j.MDC;

/**
 * The request a log line is about, in the logging MDC under {@link #KEY}, so that with {@code
 * --log-format json} every line of a request carries its id. Set around the lines that a request's
 * work writes (on the thread that writes them) and restored after:
 *
 * <pre>
 * try (RequestLogContext ignored = RequestLogContext.of(requestId)) {
 *   log.debug("request {} ...", ...);
 * }
 * </pre>
 */
public final class RequestLogContext implements AutoCloseable {

  /** The MDC key of the request id. */
  public static final String KEY = "request_id";

  private final String previous;

  private RequestLogContext(String previous) {
    this.previous = previous;
  }

  /** Puts {@code requestId} under {@link #KEY} until {@link #close()}. */
  public static RequestLogContext of(long requestId) {
    String previous = MDC.get(KEY);
    MDC.put(KEY, Long.toString(requestId));
    return new RequestLogContext(previous);
  }

  /** Restores what {@link #KEY} held before (removes it when it held nothing). */
  @Override
  public void close() {
    if (previous == null) {
      MDC.remove(KEY);
    } else {
      MDC.put(KEY, previous);
    }
  }
}
