package io.decodefleet.coordinator.workload;

import java.nio.file.Path;

/**
 * A trace file that cannot be replayed. The message is one line: {@code <file>:<line>: <what is
 * wrong>} for a bad line (lines counted from 1), {@code <file>: <what is wrong>} for the file as a
 * whole (no requests, unknown format).
 */
public final class TraceFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final Path file;
  private final int line;

  /** A problem on one line of {@code file}, 1-based. */
  public TraceFormatException(Path file, int line, String problem) {
    super(oneLine(file + ":" + line + ": " + problem));
    this.file = file;
    this.line = line;
  }

  /** A problem with {@code file} as a whole. */
  public TraceFormatException(Path file, String problem) {
    super(oneLine(file + ": " + problem));
    this.file = file;
    this.line = 0;
  }

  public Path file() {
    return file;
  }

  /** The 1-based line number, or 0 when the problem is not on one line. */
  public int line() {
    return line;
  }

  /**
   * The message with its control characters escaped as Java writes them (a line end as {@code \n}):
   * a problem quotes the file's own text (a quoted CSV cell may hold a line end), and the message
   * stays one line.
   */
  private static String oneLine(String message) {
    StringBuilder out = new StringBuilder(message.length());
    message.chars().forEach(c -> {
      if (c == '\n') out.append("\\n");
      else if (c == '\r') out.append("\\r");
      else if (c == '\t') out.append("\\t");
      else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') out.append(String.format("\\u%04x", c));
      else out.append((char) c);
    });
    return out.toString();
  }
}
