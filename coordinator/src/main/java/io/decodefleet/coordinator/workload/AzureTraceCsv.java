package io.decodefleet.coordinator.workload;

import java.io.BufferedReader;
import java.io.IOException;
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
 * lines are skipped.
 */
final class AzureTraceCsv {
  static final String HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";

  private static final DateTimeFormatter TIMESTAMP = new DateTimeFormatterBuilder()
      .appendPattern("uuuu-MM-dd HH:mm:ss")
      .optionalStart()
      .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
      .optionalEnd()
      .toFormatter()
      .withResolverStyle(ResolverStyle.STRICT);

  private AzureTraceCsv() {}

  /** Reads every row; offsets are relative to the earliest TIMESTAMP, rows stay in file order. */
  static List<TraceEntry> read(Path file, BufferedReader in) throws IOException, TraceFormatException {
    List<LocalDateTime> times = new ArrayList<>();
    List<int[]> lengths = new ArrayList<>(); // (promptLen, outputLen) per row
    List<Integer> lineNumbers = new ArrayList<>();
    boolean headerSeen = false;
    int lineNo = 0;
    for (String line; (line = in.readLine()) != null; ) {
      lineNo++;
      if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
      if (line.isBlank()) continue;
      if (!headerSeen) {
        if (!line.strip().equals(HEADER)) {
          throw new TraceFormatException(file, lineNo, "missing header: expected '" + HEADER + "', got '" + line.strip() + "'");
        }
        headerSeen = true;
        continue;
      }
      String[] cols = line.split(",", -1);
      if (cols.length != 3) {
        throw new TraceFormatException(file, lineNo, "expected 3 columns (" + HEADER + "), got " + cols.length);
      }
      times.add(parseTime(file, lineNo, cols[0].strip()));
      lengths.add(new int[] {
          positive(file, lineNo, "ContextTokens", cols[1].strip()),
          positive(file, lineNo, "GeneratedTokens", cols[2].strip())});
      lineNumbers.add(lineNo);
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
