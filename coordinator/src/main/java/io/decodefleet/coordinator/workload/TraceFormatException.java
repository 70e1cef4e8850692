package io.decodefleet.coordinator.workload;

import io.decodefleet.coordinator.text.OneLine;
import java.nio.file.Path;

/**
 * A trace file that cannot be replayed. The message is one line (what it quotes of the file escaped
 * by {@link OneLine}): {@code <file>:<line>: <what is wrong>} for a bad line (lines counted from 1),
 * {@code <file>: <what is wrong>} for the file as a whole (no requests, unknown format).
 */
public final class TraceFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final Path file;
  private final int line;

  /** A problem on one line of {@code file}, 1-based. */
  public TraceFormatException(Path file, int line, String problem) {
    super(OneLine.of(file + ":" + line + ": " + problem));
    this.file = file;
    this.line = line;
  }

  /** A problem with {@code file} as a whole. */
  public TraceFormatException(Path file, String problem) {
    super(OneLine.of(file + ": " + problem));
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
}
