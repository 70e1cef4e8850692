package io.decodefleet.coordinator.text;

/**
 * An error message that quotes what a client or a file sent, kept to one line: its control
 * characters (line ends above all) escaped as Java writes them ({@code \n}, {@code \r}, {@code \t};
 * the others, and the Unicode line and paragraph separators, as a backslash, u and four hex digits).
 * Nothing else changes, so the quoted text can still be read back.
 */
public final class OneLine {
  private OneLine() {}

  public static String of(String message) {
    StringBuilder out = null;
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
      if (control && out == null) out = new StringBuilder(message.length() + 16).append(message, 0, i);
      if (out == null) continue;
      if (!control) {
        out.append(c);
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c == '\t') {
        out.append("\\t");
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out == null ? message : out.toString();
  }
}
