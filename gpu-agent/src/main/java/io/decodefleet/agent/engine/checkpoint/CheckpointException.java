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
    return new CheckpointException(file + ": tensor '" + name + "': " + problem);
  }
}
