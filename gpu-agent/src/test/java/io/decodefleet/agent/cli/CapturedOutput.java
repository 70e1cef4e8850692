package io.decodefleet.agent.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * What a device-tool command prints. The commands print to {@code System.out} as it was when they
 * were made, so {@link #command} makes one while {@code System.out} is this buffer.
 */
final class CapturedOutput {

  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

  /** The command {@code make} makes, printing here. */
  <T> T command(Supplier<T> make) {
    PrintStream was = System.out;
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return make.get();
    } finally {
      System.setOut(was);
    }
  }

  /** Everything printed so far, UTF-8. */
  String text() {
    return buf.toString(StandardCharsets.UTF_8);
  }
}
