package io.decodefleet.agent.tools.bench;

import java.util.Locale;

/**
 * Message sizes as the bench takes and prints them: binary multiples with a K, M or G suffix
 * ({@code 4K} = 4096 bytes, {@code 256M} = 268435456), or plain bytes.
 */
public final class ByteSize {

  private ByteSize() {}

  /**
   * Parses {@code 4096}, {@code 4K}, {@code 4M}, {@code 1G} (case-insensitive, optional B).
   *
   * @throws IllegalArgumentException with one line naming the text, when it is not a positive
   *     size that is a multiple of 4 bytes (every rank moves whole fp32 elements)
   */
  public static long parse(String text) {
    String t = text == null ? "" : text.strip().toUpperCase(Locale.ROOT);
    if (t.endsWith("IB")) {
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("B")) {
      t = t.substring(0, t.length() - 1);
    }
    int shift = 0;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'K' -> shift = 10;
        case 'M' -> shift = 20;
        case 'G' -> shift = 30;
        default -> shift = 0;
      }
    }
    String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
    long value;
    try {
      value = Long.parseLong(digits);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("size '" + text + "' is not a number of bytes (e.g. 4096,"
          + " 4K, 4M, 1G)");
    }
    if (value <= 0 || value > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("size '" + text + "' must be positive");
    }
    long bytes = value << shift;
    if (bytes % 4 != 0) {
      throw new IllegalArgumentException("size '" + text + "' must be a multiple of 4 bytes");
    }
    return bytes;
  }

  /** {@code 4K}, {@code 256M}, {@code 1G}; plain bytes when not a whole multiple of 1 KiB. */
  public static String format(long bytes) {
    if (bytes >= (1L << 30) && bytes % (1L << 30) == 0) {
      return (bytes >> 30) + "G";
    }
    if (bytes >= (1L << 20) && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + "M";
    }
    if (bytes >= (1L << 10) && bytes % (1L << 10) == 0) {
      return (bytes >> 10) + "K";
    }
    return Long.toString(bytes);
  }
}
