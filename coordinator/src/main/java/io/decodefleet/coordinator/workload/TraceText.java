package io.decodefleet.coordinator.workload;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * A trace file's text as both trace readers take it: UTF-8, decoded strictly; a leading byte order
 * mark dropped; every line end ({@code \r\n}, {@code \n} or a lone {@code \r}) given as one {@code \n},
 * so that line numbers are the same whoever counts them (the CSV and JSON parsers, a BufferedReader).
 *
 * <p>Bytes that are not UTF-8 are an {@link NotUtf8} naming their line and column. The text is
 * decoded one line at a time and one line is served per {@link #read(char[], int, int)} call, so
 * that such a line is reached only when its reader gets there: a bad line earlier in the file is
 * still the first error reported, however far the reader's buffer looks ahead.
 */
final class TraceText extends Reader {
  /** Bytes that are not UTF-8, on a line of the file. */
  static final class NotUtf8 extends IOException {
    private static final long serialVersionUID = 1L;
    private final int line;

    NotUtf8(int line, String problem) {
      super(problem);
      this.line = line;
    }

    /** The 1-based line holding the bytes. */
    int line() {
      return line;
    }
  }

  private final InputStream in;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  /** Bytes read from {@code in} and not yet cut into lines: {@code buffer[start, end)}. */
  private final byte[] buffer = new byte[8192];
  private int start;
  private int end;
  private boolean eof;
  /** The current line's bytes, without its end. */
  private byte[] lineBytes = new byte[256];
  /** The current line's text and its {@code \n}, as far as it has been served. */
  private CharBuffer line = CharBuffer.allocate(0);
  /** Lines decoded so far: the 1-based number of the one being served. */
  private int lineNumber;

  TraceText(InputStream in) {
    this.in = in;
  }

  @Override
  public int read(char[] into, int offset, int length) throws IOException {
    if (length == 0) return 0;
    if (!line.hasRemaining() && !nextLine()) return -1;
    int n = Math.min(length, line.remaining());
    line.get(into, offset, n);
    return n;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  /** Cuts and decodes the next line; false at the end of the file. */
  private boolean nextLine() throws IOException {
    int length = 0;
    boolean any = false;
    while (true) {
      if (start == end && !fill()) break;
      byte b = buffer[start++];
      any = true;
      if (b == '\n') break;
      if (b == '\r') {
        if ((start < end || fill()) && buffer[start] == '\n') start++;
        break;
      }
      if (length == lineBytes.length) lineBytes = Arrays.copyOf(lineBytes, length * 2);
      lineBytes[length++] = b;
    }
    if (!any) return false;
    lineNumber++;
    line = decode(length);
    return true;
  }

  private boolean fill() throws IOException {
    if (eof) return false;
    int n;
    do {
      n = in.read(buffer); // 0 only from a stream that breaks InputStream's contract
    } while (n == 0);
    start = 0;
    if (n < 0) {
      eof = true;
      end = 0;
      return false;
    }
    end = n;
    return true;
  }

  private CharBuffer decode(int length) throws NotUtf8 {
    ByteBuffer bytes = ByteBuffer.wrap(lineBytes, 0, length);
    // UTF-8 never gives more UTF-16 chars than bytes; one more for the line's end.
    CharBuffer text = CharBuffer.allocate(length + 1);
    utf8.reset();
    CoderResult result = utf8.decode(bytes, text, true);
    if (result.isError()) {
      int at = bytes.position();
      throw new NotUtf8(lineNumber, "not UTF-8: byte 0x"
          + Integer.toHexString(lineBytes[at] & 0xff).toUpperCase(Locale.ROOT) + " at byte " + (at + 1) + " of the line");
    }
    utf8.flush(text);
    text.put('\n').flip();
    if (lineNumber == 1 && text.remaining() > 0 && text.get(0) == '\uFEFF') text.position(1);
    return text;
  }
}
