package io.decodefleet.coordinator.report;

import java.util.ArrayList;
import java.util.List;

/** An RFC 4180 reader for the tests: quoted fields may hold commas, doubled quotes and newlines. */
final class CsvReading {

  private CsvReading() {}

  /** Every record of {@code text}, each a list of fields; requires CRLF record ends. */
  static List<List<String>> parse(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
      } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
        record.add(field.toString());
        field.setLength(0);
        records.add(record);
        record = new ArrayList<>();
        i++;
      } else if (c == '\n' || c == '\r') {
        throw new IllegalStateException("bare line break outside quotes at offset " + i);
      } else {
        field.append(c);
      }
    }
    if (quoted || field.length() > 0 || !record.isEmpty()) {
      throw new IllegalStateException("text does not end with a complete CRLF-terminated record");
    }
    return records;
  }
}
