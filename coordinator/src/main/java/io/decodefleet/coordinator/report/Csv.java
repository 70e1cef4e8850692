package io.decodefleet.coordinator.report;

import java.math.BigDecimal;
import java.util.List;

/**
 * RFC 4180 text: comma-separated fields, CRLF line ends, a field quoted when it holds a comma, a
 * double quote, CR or LF, with inner quotes doubled. Numbers are written in full precision without
 * exponent, so they parse back to the same double; NaN and infinity are written as empty fields.
 */
final class Csv {

  static final String LINE_END = "\r\n";

  private Csv() {}

  /** One record, fields escaped, ending in CRLF. */
  static String line(List<String> fields) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(text(fields.get(i)));
    }
    return out.append(LINE_END).toString();
  }

  /** A text field, quoted only when it must be; null is an empty field. */
  static String text(String value) {
    if (value == null) {
      return "";
    }
    boolean quote = value.indexOf(',') >= 0 || value.indexOf('"') >= 0
        || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0;
    return quote ? '"' + value.replace("\"", "\"\"") + '"' : value;
  }

  /** A number: the shortest decimal that reads back as {@code value}; empty when not finite. */
  static String number(double value) {
    return Double.isFinite(value) ? BigDecimal.valueOf(value).toPlainString() : "";
  }
}
