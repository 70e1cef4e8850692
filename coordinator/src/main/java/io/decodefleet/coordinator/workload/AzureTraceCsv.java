package io.decodefleet.coordinator.workload;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.csv.CsvFactory;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSV layout of the public Azure LLM inference traces (Azure Public Dataset, 2023 and 2024):
 *
 * <pre>
 * TIMESTAMP,ContextTokens,GeneratedTokens
 * 2023-11-16 18:15:46.6805900,374,44
 * </pre>
 *
 * TIMESTAMP is UTC with up to 9 fractional digits; offsets are measured from the earliest one.
 * ContextTokens is the prompt length, GeneratedTokens the output length; both must be ≥ 1. Blank
 * lines are skipped; the first other line is the header (its cells may be quoted). The file is CSV as
 * RFC 4180 has it, read by Jackson's CSV parser: a cell may be quoted, holding commas, line ends and
 * doubled quotes; blanks around a cell do not count.
 */
final class AzureTraceCsv {
  static final String HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";
  private static final List<String> HEADER_CELLS = List.of(HEADER.split(","));
  private static final CsvFactory CSV = new CsvFactory();

  private static final DateTimeFormatter TIMESTAMP = new DateTimeFormatterBuilder()
      .appendPattern("uuuu-MM-dd HH:mm:ss")
      .optionalStart()
      .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
      .optionalEnd()
      .toFormatter()
      .withResolverStyle(ResolverStyle.STRICT);

  private AzureTraceCsv() {}

  /**
   * Reads every row; offsets are relative to the earliest TIMESTAMP, rows stay in file order.
   *
   * @param text the file's text (see {@link TraceText}: its line numbers are the file's)
   */
  static List<TraceEntry> read(Path file, Reader text) throws IOException, TraceFormatException {
    List<LocalDateTime> times = new ArrayList<>();
    List<int[]> lengths = new ArrayList<>(); // (promptLen, outputLen) per row
    List<Integer> lineNumbers = new ArrayList<>();
    boolean headerSeen = false;
    try (CsvParser rows = (CsvParser) CSV.createParser(text)) {
      // No columns in the schema: each row comes as an array of its cells.
      rows.setSchema(CsvSchema.emptySchema());
      for (Row row; (row = Row.next(file, rows)) != null; ) {
        if (row.isBlank()) continue;
        if (!headerSeen) {
          if (!row.cells().equals(HEADER_CELLS)) {
            throw new TraceFormatException(file, row.line(),
                "missing header: expected '" + HEADER + "', got '" + String.join(",", row.cells()) + "'");
          }
          headerSeen = true;
          continue;
        }
        if (row.columns() != 3) {
          throw new TraceFormatException(file, row.line(), "expected 3 columns (" + HEADER + "), got " + row.columns());
        }
        times.add(parseTime(file, row.line(), row.cells().get(0)));
        lengths.add(new int[] {
            positive(file, row.line(), "ContextTokens", row.cells().get(1)),
            positive(file, row.line(), "GeneratedTokens", row.cells().get(2))});
        lineNumbers.add(row.line());
      }
    }
    LocalDateTime first = times.stream().min(LocalDateTime::compareTo).orElse(null);
    List<TraceEntry> entries = new ArrayList<>(times.size());
    for (int i = 0; i < times.size(); i++) {
      long offset;
      try {
        offset = Duration.between(first, times.get(i)).toNanos();
      } catch (ArithmeticException e) {
        throw new TraceFormatException(file, lineNumbers.get(i), "TIMESTAMP is more than 292 years after the earliest one");
      }
      entries.add(new TraceEntry(offset, null, lengths.get(i)[0], lengths.get(i)[1], lineNumbers.get(i)));
    }
    return entries;
  }

  /**
   * One CSV record: the line it starts on, its first cells (blanks around them stripped; more than
   * the layout has are only counted) and how many it has.
   */
  private record Row(int line, List<String> cells, int columns) {
    /** Cells kept of a row: one more than the layout, so a row that has too many still says so. */
    private static final int KEPT = 4;

    boolean isBlank() {
      return columns == 1 && cells.get(0).isEmpty();
    }

    /** The next record, or null at the end of the file. */
    static Row next(Path file, CsvParser rows) throws IOException, TraceFormatException {
      int line = (int) rows.currentLocation().getLineNr();
      try {
        if (rows.nextToken() == null) return null;
        line = (int) rows.currentLocation().getLineNr(); // at the record's START_ARRAY: its first line
        List<String> cells = new ArrayList<>(KEPT);
        int columns = 0;
        while (rows.nextToken() == JsonToken.VALUE_STRING) {
          if (columns++ < KEPT) cells.add(rows.getText().strip());
        }
        return new Row(line, cells, columns);
      } catch (TraceText.NotUtf8 e) {
        throw new TraceFormatException(file, e.line(), e.getMessage());
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : at.getLineNr() == line ? " at column " + at.getColumnNr()
            : " (in the record that starts on this line, at line " + at.getLineNr() + " column " + at.getColumnNr() + ")";
        throw new TraceFormatException(file, line, "not valid CSV" + where + ": " + e.getOriginalMessage());
      }
    }
  }

  private static LocalDateTime parseTime(Path file, int lineNo, String text) throws TraceFormatException {
    try {
      return LocalDateTime.parse(text, TIMESTAMP);
    } catch (DateTimeParseException e) {
      throw new TraceFormatException(file, lineNo,
          "TIMESTAMP '" + text + "' is not a time like 2023-11-16 18:15:46.6805900");
    }
  }

  private static int positive(Path file, int lineNo, String column, String text) throws TraceFormatException {
    int n;
    try {
      n = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new TraceFormatException(file, lineNo, column + " '" + text + "' is not an integer");
    }
    if (n < 1) throw new TraceFormatException(file, lineNo, column + " must be >= 1, got " + n);
    return n;
  }
}
