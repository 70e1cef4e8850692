package io.decodefleet.coordinator.cli;

/** A bad value on the command line: one line on stderr, exit code 2, no stack trace. */
final class UsageError extends RuntimeException {
  UsageError(String message) {
    super(message, null, false, false);
  }
}
