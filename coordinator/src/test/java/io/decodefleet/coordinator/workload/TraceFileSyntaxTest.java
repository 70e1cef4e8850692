package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a trace file may look like on disk, for both formats: quoted CSV cells, a byte order mark,
 * CRLF or CR line ends, blank lines at the end; and the line numbers of what is wrong in it.
 */
class TraceFileSyntaxTest {
  private static final String HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";

  @TempDir
  Path dir;

  private Path write(String name, byte[] content) throws Exception {
    return Files.write(dir.resolve(name), content);
  }

  private Path write(String name, String content) throws Exception {
    return write(name, content.getBytes(StandardCharsets.UTF_8));
  }

  private static List<RequestSpec> read(Path file) throws Exception {
    return TraceReader.read(file, TraceOptions.AS_RECORDED, 1000, 4096, 42);
  }

  private static TraceFormatException failure(Path file) {
    TraceFormatException e = assertThrows(TraceFormatException.class, () -> read(file));
    assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
    return e;
  }

  /** (prompt length, max tokens, arrival ns) of each request. */
  private static List<List<Long>> shape(List<RequestSpec> requests) {
    return requests.stream().map(r -> List.of((long) r.promptTokens().length, (long) r.maxTokens(), r.arrivalNanos()))
        .toList();
  }

  private static final List<List<Long>> TWO_ROWS = List.of(List.of(374L, 44L, 0L), List.of(396L, 109L, 500_000_000L));

  @Test
  void quotedCellsReadAsTheirContent() throws Exception {
    Path file = write("quoted.csv", "\"TIMESTAMP\",\"ContextTokens\",GeneratedTokens\n"
        + "\"2023-11-16 18:15:46\",\"374\",\"44\"\n"
        + "2023-11-16 18:15:46.5,  396 ,\"109\"\n");
    assertEquals(TWO_ROWS, shape(read(file)));
  }

  @Test
  void aQuotedCellHoldingACommaOrAQuoteIsOneCell() throws Exception {
    Path comma = write("comma.csv", HEADER + "\n2023-11-16 18:15:46,\"1,000\",44\n");
    assertEquals(comma + ":2: ContextTokens '1,000' is not an integer", failure(comma).getMessage());
    Path quote = write("quote.csv", HEADER + "\n2023-11-16 18:15:46,374,\"4\"\"4\"\n");
    assertEquals(quote + ":2: GeneratedTokens '4\"4' is not an integer", failure(quote).getMessage());
  }

  @Test
  void byteOrderMarkCrlfCrAndTrailingBlankLinesAreAccepted() throws Exception {
    String rows = "2023-11-16 18:15:46,374,44%n2023-11-16 18:15:46.5,396,109%n%n  %n%n";
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    for (String end : List.of("\r\n", "\n", "\r")) {
      String csv = (HEADER + "%n" + rows).replace("%n", end);
      byte[] body = csv.getBytes(StandardCharsets.UTF_8);
      byte[] withBom = new byte[bom.length + body.length];
      System.arraycopy(bom, 0, withBom, 0, 3);
      System.arraycopy(body, 0, withBom, 3, body.length);
      assertEquals(TWO_ROWS, shape(read(write("t.csv", withBom))), "CSV, line end " + end.replace("\r", "CR"));

      String jsonl = ("{\"arrival_s\": 0, \"prompt_len\": 374, \"output_len\": 44}%n"
          + "{\"arrival_s\": 0.5, \"prompt_len\": 396, \"output_len\": 109}%n%n \t%n").replace("%n", end);
      body = jsonl.getBytes(StandardCharsets.UTF_8);
      withBom = new byte[bom.length + body.length];
      System.arraycopy(bom, 0, withBom, 0, 3);
      System.arraycopy(body, 0, withBom, 3, body.length);
      assertEquals(TWO_ROWS, shape(read(write("t.jsonl", withBom))), "JSONL, line end " + end.replace("\r", "CR"));
    }
  }

  @Test
  void lineNumbersCountCrlfAndQuotedLineEnds() throws Exception {
    // The first row spans lines 2-3 (a quoted line end, stripped like any blank around a cell).
    Path file = write("spans.csv", HEADER + "\r\n\"2023-11-16 18:15:46\",374,\"44\r\n\"\r\n\r\n"
        + "2023-11-16 18:15:47,0,1\r\n");
    assertEquals(file + ":5: ContextTokens must be >= 1, got 0", failure(file).getMessage());
    Path inside = write("inside.csv", HEADER + "\r\n\"2023-11-16 18:15:46\",374,\"4\r\n4\"\r\n");
    assertEquals(inside + ":2: GeneratedTokens '4\\n4' is not an integer", failure(inside).getMessage(),
        "the cell's line end is escaped: the message stays one line");
  }

  @Test
  void aQuoteThatNeverClosesIsNamedOnTheLineItOpens() throws Exception {
    Path file = write("open.csv", HEADER + "\n2023-11-16 18:15:46,374,44\n2023-11-16 18:15:47,\"396,109\n\n\n");
    TraceFormatException e = failure(file);
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.getMessage().startsWith(file + ":3: not valid CSV"), e.getMessage());
    Path junk = write("junk.csv", HEADER + "\n\"2023-11-16 18:15:46\"x,374,44\n");
    assertTrue(failure(junk).getMessage().startsWith(junk + ":2: not valid CSV at column 23: "),
        failure(junk).getMessage());
  }

  /** Regression: bytes that are not UTF-8 were an IOException ("Input length = 1") with no file or line. */
  @Test
  void bytesThatAreNotUtf8AreNamedByLine() throws Exception {
    byte[] csv = (HEADER + "\n2023-11-16 18:15:46,374,44\n2023-11-16 18:15:47,3?6,109\n")
        .getBytes(StandardCharsets.UTF_8);
    csv[csv.length - 7] = (byte) 0xFF;
    Path file = write("latin.csv", csv);
    assertEquals(file + ":3: not UTF-8: byte 0xFF at byte 22 of the line", failure(file).getMessage());

    byte[] jsonl = ("{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2}\n\n"
        + "{\"arrival_s\": 1, \"prompt_len\": 3, \"output_len\": 2, \"x\": \"\u00e9\"}\n").getBytes(StandardCharsets.UTF_8);
    jsonl[jsonl.length - 4] = (byte) 0xC3; // é's second byte becomes a second lead byte
    jsonl[jsonl.length - 3] = '"';
    jsonl[jsonl.length - 2] = '}';
    jsonl[jsonl.length - 1] = '\n';
    Path j = write("latin.jsonl", jsonl);
    TraceFormatException e = failure(j);
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.getMessage().startsWith(j + ":3: not UTF-8: byte 0xC3"), e.getMessage());
  }

  @Test
  void aBadLineBeforeBadBytesIsTheErrorReported() throws Exception {
    StringBuilder text = new StringBuilder();
    text.append("{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2}\n");
    text.append("{\"arrival_s\": 0, \"prompt_len\": 0, \"output_len\": 2}\n");
    for (int i = 0; i < 500; i++) text.append("{\"arrival_s\": 1, \"prompt_len\": 3, \"output_len\": 2}\n");
    byte[] bytes = (text + "\u00ff\n").getBytes(StandardCharsets.ISO_8859_1); // the last line is not UTF-8
    Path file = write("order.jsonl", bytes);
    assertEquals(2, failure(file).line(), "the reader's look-ahead must not report line 503 first");
  }

  /** Regression: a Mooncake timestamp past 292 years in ns overflowed into a negative arrival. */
  @Test
  void arrivalsBeyondALongOfNanosecondsAreRefusedNotWrapped() throws Exception {
    Path mooncake = write("far.jsonl",
        "{\"timestamp\": 9300000000000, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [1]}\n");
    assertEquals(mooncake + ":1: timestamp must be at most 9223372036854 milliseconds (292 years), got 9300000000000",
        failure(mooncake).getMessage());
    Path seconds = write("far-s.jsonl", "{\"arrival_s\": 1e12, \"prompt_len\": 3, \"output_len\": 2}\n");
    assertEquals(seconds + ":1: arrival_s must be at most 9223372036 seconds (292 years), got 1.0E12",
        failure(seconds).getMessage());
    assertEquals(9_223_372_036_000_000_000L, read(write("edge.jsonl",
        "{\"timestamp\": 9223372036000, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [1]}\n"))
        .get(0).arrivalNanos());
  }
}
