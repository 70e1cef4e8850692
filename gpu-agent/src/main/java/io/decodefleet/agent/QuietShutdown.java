package io.decodefleet.agent;

/**
 * Nodes that stop see their peers' connections drop: expected while shutting down, so the transport's
 * warnings about it are held back until the caller restores logging.
 */
public final class QuietShutdown {
  private QuietShutdown() {}

  /** Raises the root log level to ERROR; the returned action restores it. */
  public static Runnable begin() {
    if (org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
        instanceof ch.qos.logback.classic.Logger root) {
      ch.qos.logback.classic.Level before = root.getLevel();
      root.setLevel(ch.qos.logback.classic.Level.ERROR);
      return () -> root.setLevel(before);
    }
    return () -> {};
  }
}
