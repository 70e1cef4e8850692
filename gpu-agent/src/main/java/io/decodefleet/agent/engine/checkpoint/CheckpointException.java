package io.decodefleet.agent.engine.checkpoint;

import java.nio.file.Path;

/**
 * A checkpoint that cannot be loaded, in one line that names the file and, where there is one, the
 * tensor: {@code model.safetensors: tensor 'model.norm.weight': shape [64] but the config gives [128]}.
 * An IllegalArgumentException, so the command lines turn it into their usage error and an agent into
 * its load failure.
 */
public final class CheckpointException extends IllegalArgumentException {

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }

  /** A problem of one file as a whole. */
  static CheckpointException file(Path file, String problem) {
    return new CheckpointException(file + ": " + problem);
  }

  /** A problem of one tensor of one file. */
  static CheckpointException tensor(Path file, String name, String problem) {
    return new CheckpointException(file + ": tensor " + quoted(name) + ": " + problem);
  }

  /**
   * A tensor name as a message shows it: in single quotes, its control characters escaped ({@code \n},
   * {@code \r}, {@code \t}, else {@code \}{@code uXXXX}), so a name read from a file never breaks the
   * message's one line.
   */
  public static String quoted(String name) {
    StringBuilder b = new StringBuilder(name.length() + 2).append('\'');
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || Character.getType(c) == Character.LINE_SEPARATOR
              || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('\'').toString();
  }
}
