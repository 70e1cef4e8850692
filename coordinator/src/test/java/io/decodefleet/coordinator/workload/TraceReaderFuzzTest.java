package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.BoundedTry;
import io.decodefleet.coordinator.JsonArbitraries;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever a trace file holds, reading it gives requests that can be replayed as they stand, or one
 * TraceFormatException on one line naming the file and a line of it; never another exception, a hang
 * or memory out of proportion to the file. Files with exactly one bad row (malformed, or whose prompt
 * and output exceed the context: refused, never cut), among rows written every way the formats allow
 * (quoted cells, quoted line ends, CRLF or CR, a byte order mark, blank lines), name that row's line.
 */
class TraceReaderFuzzTest {
  private static final int VOCAB = 1000;
  private static final int CONTEXT = 4096;
  private static final Duration LIMIT = Duration.ofSeconds(10);
  /** The files are a few KB; their requests at most a few hundred of (CONTEXT) ints. */
  private static final long MAX_BYTES = 64L << 20;
  /** Stands for a byte that is not UTF-8 (0xFF) in the text of a file being built. */
  private static final char NOT_UTF8 = '\uE000';
  private static final List<String> JSONL_FIELDS = List.of("arrival_s", "prompt_tokens", "prompt_len", "output_len",
      "timestamp", "input_length", "output_length", "hash_ids");

  private static Path dir;

  @BeforeContainer
  static void makeDir() throws IOException {
    dir = Files.createTempDirectory("trace-fuzz");
  }

  @AfterContainer
  static void removeDir() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  /** A file to read, and the 1-based line of its one bad row (0: none; then it has {@code rows} requests). */
  record TraceFile(byte[] content, int badLine, int rows) {
    @Override
    public String toString() {
      return "TraceFile[bad line " + badLine + ", rows " + rows + ", text "
          + new String(content, StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n\n") + "]";
    }
  }

  // ---------------------------------------------------------------- properties

  @Property(tries = 600)
  void oneBadCsvRowIsNamedByItsLine(@ForAll("csvFiles") TraceFile f) throws Exception {
    assertNamesTheBadLine("t.csv", f);
  }

  @Property(tries = 600)
  void oneBadJsonlRowIsNamedByItsLine(@ForAll("jsonlFiles") TraceFile f) throws Exception {
    assertNamesTheBadLine("t.jsonl", f);
  }

  @Property(tries = 600)
  void anyBytesAsCsvGiveRowsOrALineError(@ForAll("csvBytes") byte[] content) throws Exception {
    assertRowsOrLineError("b.csv", content);
  }

  @Property(tries = 600)
  void anyBytesAsJsonlGiveRowsOrALineError(@ForAll("jsonlBytes") byte[] content) throws Exception {
    assertRowsOrLineError("b.jsonl", content);
  }

  @Property(tries = 600)
  void anyJsonObjectsAsRowsGiveRowsOrALineError(@ForAll("jsonlOfAnyObjects") byte[] content) throws Exception {
    assertRowsOrLineError("o.jsonl", content);
  }

  // ---------------------------------------------------------------- oracles

  private static BoundedTry.Outcome<List<RequestSpec>> read(Path file) throws InterruptedException {
    return BoundedTry.call(LIMIT, MAX_BYTES, () -> TraceReader.read(file, TraceOptions.AS_RECORDED, VOCAB, CONTEXT, 7));
  }

  private static void assertNamesTheBadLine(String name, TraceFile f) throws Exception {
    Path file = Files.write(dir.resolve(name), f.content());
    BoundedTry.Outcome<List<RequestSpec>> o = read(file);
    if (f.badLine() == 0 && f.rows() == 0) {
      assertEquals(file + ": no requests", formatError(file, o).getMessage());
      return;
    }
    if (f.badLine() == 0) {
      if (o.thrown() != null) throw new AssertionError("a file of good rows was refused", o.thrown());
      assertEquals(f.rows(), o.value().size());
      assertReplayable(o.value());
      return;
    }
    TraceFormatException e = formatError(file, o);
    assertEquals(f.badLine(), e.line(), e.getMessage());
  }

  private static void assertRowsOrLineError(String name, byte[] content) throws Exception {
    Path file = Files.write(dir.resolve(name), content);
    BoundedTry.Outcome<List<RequestSpec>> o = read(file);
    if (o.thrown() == null) {
      assertReplayable(o.value());
      return;
    }
    TraceFormatException e = formatError(file, o);
    if (e.line() == 0) {
      assertEquals(file + ": no requests", e.getMessage());
    } else {
      assertTrue(e.line() <= lines(content), "line " + e.line() + " of a file of " + lines(content) + " lines");
    }
  }

  /** The error, which must be a TraceFormatException of one line naming the file and the line. */
  private static TraceFormatException formatError(Path file, BoundedTry.Outcome<List<RequestSpec>> o) {
    if (!(o.thrown() instanceof TraceFormatException e)) {
      throw new AssertionError(o.thrown() == null ? "a bad file was accepted: " + o.value().size() + " requests"
          : "not a TraceFormatException: " + o.thrown(), o.thrown());
    }
    String message = e.getMessage();
    assertFalse(message.contains("\n") || message.contains("\r"), message);
    assertTrue(message.startsWith(file + (e.line() == 0 ? ": " : ":" + e.line() + ": ")), message);
    return e;
  }

  private static void assertReplayable(List<RequestSpec> requests) {
    long previous = 0;
    for (int i = 0; i < requests.size(); i++) {
      RequestSpec r = requests.get(i);
      assertEquals(i, r.requestId());
      assertTrue(r.arrivalNanos() >= previous, "arrivals go back at request " + i);
      previous = r.arrivalNanos();
      int[] prompt = r.promptTokens();
      assertTrue(prompt.length >= 1 && prompt.length <= CONTEXT - 1, "prompt of " + prompt.length);
      assertTrue(Arrays.stream(prompt).allMatch(t -> t >= 0 && t < VOCAB), "a token outside the vocabulary");
      assertTrue(r.maxTokens() >= 1 && prompt.length + r.maxTokens() <= CONTEXT, "max tokens " + r.maxTokens());
    }
  }

  /** Lines as the readers count them: each \r\n, \n or lone \r ends one; text after the last is one more. */
  static int lines(byte[] content) {
    int lines = 0;
    for (int i = 0; i < content.length; i++) {
      if (content[i] == '\n' || content[i] == '\r') {
        lines++;
        if (content[i] == '\r' && i + 1 < content.length && content[i + 1] == '\n') i++;
      }
    }
    boolean open = content.length > 0 && content[content.length - 1] != '\n' && content[content.length - 1] != '\r';
    return lines + (open ? 1 : 0);
  }

  // ---------------------------------------------------------------- files with one bad row

  /** One row of a file: its text, and whether it is the bad one. */
  private record Row(String text, boolean bad) {}

  @Provide
  Arbitrary<TraceFile> csvFiles() {
    Arbitrary<String> end = Arbitraries.of("\n", "\r\n", "\r");
    return Combinators.combine(Arbitraries.of(true, false), end, csvRow(end).list().ofMaxSize(8),
            badCsvRow().injectNull(0.2), Arbitraries.integers().between(0, 8), blankLines(end, true))
        .as((bom, e, good, bad, at, blanks) -> file(bom, e, "TIMESTAMP,ContextTokens,GeneratedTokens", good, bad, at,
            blanks));
  }

  @Provide
  Arbitrary<TraceFile> jsonlFiles() {
    Arbitrary<String> end = Arbitraries.of("\n", "\r\n", "\r");
    return Combinators.combine(Arbitraries.of(true, false), end, jsonlRow().list().ofMaxSize(8),
            badJsonlRow().injectNull(0.2), Arbitraries.integers().between(0, 8), blankLines(end, false))
        .as((bom, e, good, bad, at, blanks) -> file(bom, e, null, good, bad, at, blanks));
  }

  /** Blank lines to scatter: empty, or blanks only (CSV: the parser sees one empty cell). */
  private static Arbitrary<List<String>> blankLines(Arbitrary<String> end, boolean csv) {
    return Arbitraries.of("", " ", "\t", csv ? "  " : " \t ").list().ofMaxSize(3);
  }

  private static TraceFile file(boolean bom, String end, String header, List<String> good, String bad, int at,
      List<String> blanks) {
    List<Row> rows = new ArrayList<>();
    good.forEach(r -> rows.add(new Row(r, false)));
    if (bad != null) rows.add(Math.min(at, rows.size()), new Row(bad, true));
    StringBuilder text = new StringBuilder(bom ? "\uFEFF" : "");
    for (int i = 0; i < blanks.size() - 1; i++) text.append(blanks.get(i)).append(end); // before the first row
    if (header != null) text.append(header).append(end);
    int badLine = 0;
    for (Row r : rows) {
      if (r.bad()) badLine = lines(text.toString().replace("\uFEFF", "").getBytes(StandardCharsets.UTF_8)) + 1;
      text.append(r.text()).append(end);
    }
    if (!blanks.isEmpty()) text.append(blanks.get(blanks.size() - 1)).append(end).append(end); // after the last
    return new TraceFile(bytes(text.toString()), badLine, good.size());
  }

  /** The text as UTF-8, each {@link #NOT_UTF8} as the byte 0xFF. */
  private static byte[] bytes(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String[] parts = text.split(String.valueOf(NOT_UTF8), -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) out.write(0xFF);
      out.writeBytes(parts[i].getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private static Arbitrary<String> timestamp() {
    return Combinators.combine(Arbitraries.integers().between(0, 59), Arbitraries.integers().between(0, 59),
            Arbitraries.strings().numeric().ofMaxLength(9))
        .as((m, s, frac) -> String.format("2023-11-16 18:%02d:%02d", m, s) + (frac.isEmpty() ? "" : "." + frac));
  }

  /** A cell as a CSV writer might write it: plain, padded, quoted, quoted around a line end. */
  private static Arbitrary<String> cell(Arbitrary<String> value, Arbitrary<String> end) {
    return Combinators.combine(value, Arbitraries.integers().between(0, 3), end).as((v, how, e) -> switch (how) {
      case 0 -> v;
      case 1 -> " " + v + "  ";
      case 2 -> "\"" + v + "\"";
      default -> "\"" + v + e + "\"";
    });
  }

  private static Arbitrary<String> csvRow(Arbitrary<String> end) {
    // Each length at most half the context: a good row's prompt and output fit it together.
    Arbitrary<String> count = Arbitraries.integers().between(1, CONTEXT / 2).map(String::valueOf);
    return Combinators.combine(cell(timestamp(), end), cell(count, end), cell(count, end))
        .as((t, c, g) -> t + "," + c + "," + g);
  }

  private static Arbitrary<String> badCsvRow() {
    return timestamp().flatMap(t -> Arbitraries.of(
        t + ",0,5", t + ",5,-3", t + ",\"1,000\",5", t + ",\"4\"\"4\",5", t + ",5", t + ",5,5,5", t + ",,",
        "2023-13-16 18:00:00,5,5", "\"2023-11-16T18:00:00\",5,5", "\"" + t + "\"x,5,5", t + ",\"5,5",
        t + NOT_UTF8 + ",5,5", t + ",5\u0000,5", t + ",99999999999,5", t + ",5,2.5", "\"" + t + ",5,5",
        t + "," + (CONTEXT - 3) + ",4", t + ",100000,1"));
  }

  private static Arbitrary<String> jsonlRow() {
    Arbitrary<Integer> length = Arbitraries.integers().between(1, CONTEXT / 2);
    Arbitrary<String> arrival = Arbitraries.doubles().between(0, 1000).map(String::valueOf);
    Arbitrary<String> own = Combinators.combine(arrival, length, length)
        .as((a, p, o) -> "{\"arrival_s\": " + a + ", \"prompt_len\": " + p + ", \"output_len\": " + o + "}");
    Arbitrary<String> tokens = Combinators.combine(arrival, Arbitraries.integers().between(0, VOCAB - 1).list()
            .ofMinSize(1).ofMaxSize(20), length)
        .as((a, t, o) -> "{\"prompt_tokens\": " + t + ",\"output_len\":" + o + ",  \"arrival_s\":" + a + "}");
    Arbitrary<String> mooncake = Combinators.combine(Arbitraries.longs().between(0, 10_000_000), length, length,
            Arbitraries.longs().list().ofMinSize(1).ofMaxSize(20))
        .as((t, i, o, h) -> "{\"timestamp\": " + t + ", \"input_length\": " + i + ", \"output_length\": " + o
            + ", \"hash_ids\": " + h + "}");
    return Arbitraries.oneOf(own, tokens, mooncake);
  }

  private static Arbitrary<String> badJsonlRow() {
    return Arbitraries.of(
        "{\"arrival_s\": 0, \"prompt_len\": 3}",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2, \"priority\": 1}",
        "{\"arrival_s\": 0, \"prompt_len\": 0, \"output_len\": 2}",
        "{\"arrival_s\": -1, \"prompt_len\": 3, \"output_len\": 2}",
        "{\"arrival_s\": 0, \"prompt_tokens\": [1, " + VOCAB + "], \"output_len\": 2}",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2} {}",
        "[1, 2]",
        "{\"arrival_s\": 0, \"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2}",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2, \"x\": \"" + NOT_UTF8 + "\"}",
        "{\"timestamp\": 9300000000000, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [1]}",
        "{\"timestamp\": -1, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [1]}",
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": []}",
        "{\"arrival_s\": 1e12, \"prompt_len\": 3, \"output_len\": 2}",
        "{\"arrival_s\": NaN, \"prompt_len\": 3, \"output_len\": 2}",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 99999999999}",
        "[".repeat(2000) + "]".repeat(2000),
        "\"just a string\"",
        "{\"arrival_s\": 0, \"prompt_len\": 3, \"output_len\": 2, \"\u0000\": 1}",
        "{\"arrival_s\": 0, \"prompt_len\": " + (CONTEXT - 1) + ", \"output_len\": 2}",
        "{\"arrival_s\": 0, \"prompt_tokens\": [1, 2], \"output_len\": " + (CONTEXT - 1) + "}",
        "{\"timestamp\": 5, \"input_length\": " + CONTEXT + ", \"output_length\": 1, \"hash_ids\": [1]}");
  }

  // ---------------------------------------------------------------- arbitrary bytes

  @Provide
  Arbitrary<byte[]> csvBytes() {
    return anyBytesOr(csvFiles());
  }

  @Provide
  Arbitrary<byte[]> jsonlBytes() {
    return anyBytesOr(jsonlFiles());
  }

  /** Random bytes, or a well-formed file with bytes flipped, cut out or put in. */
  private static Arbitrary<byte[]> anyBytesOr(Arbitrary<TraceFile> files) {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
    Arbitrary<byte[]> mutated = Combinators.combine(files, mutation().list().ofMinSize(1).ofMaxSize(4))
        .as((f, ms) -> {
          byte[] b = f.content();
          for (Mutation m : ms) b = m.apply(b);
          return b;
        });
    return Arbitraries.frequencyOf(Tuple.of(1, random), Tuple.of(2, mutated));
  }

  /** One change to a file's bytes, at a place given as a fraction of its length. */
  private record Mutation(int kind, double at, byte value, int length) {
    byte[] apply(byte[] b) {
      int i = (int) (at * b.length);
      return switch (kind) {
        case 0 -> { // flip
          if (b.length == 0) yield b;
          byte[] c = b.clone();
          c[Math.min(i, c.length - 1)] = value;
          yield c;
        }
        case 1 -> { // cut
          int to = Math.min(b.length, i + length);
          byte[] c = new byte[b.length - (to - i)];
          System.arraycopy(b, 0, c, 0, i);
          System.arraycopy(b, to, c, i, b.length - to);
          yield c;
        }
        default -> { // insert
          byte[] c = new byte[b.length + length];
          System.arraycopy(b, 0, c, 0, i);
          Arrays.fill(c, i, i + length, value);
          System.arraycopy(b, i, c, i + length, b.length - i);
          yield c;
        }
      };
    }
  }

  private static Arbitrary<Mutation> mutation() {
    Arbitrary<Byte> value = Arbitraries.oneOf(Arbitraries.bytes(),
        Arbitraries.of((byte) '"', (byte) ',', (byte) '\n', (byte) '\r', (byte) '{', (byte) 0xFF, (byte) 0xC3));
    return Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.doubles().between(0, 1), value,
        Arbitraries.integers().between(1, 8)).as(Mutation::new);
  }

  /** JSON Lines whose rows are any JSON objects, their keys mostly the formats' own. */
  @Provide
  Arbitrary<byte[]> jsonlOfAnyObjects() {
    Arbitrary<JsonNode> row = JsonArbitraries.objects(JsonArbitraries.values(2, JSONL_FIELDS), JSONL_FIELDS, 5);
    return row.list().ofMinSize(1).ofMaxSize(6).map(rows -> {
      StringBuilder text = new StringBuilder();
      rows.forEach(r -> text.append(r).append('\n'));
      return text.toString().getBytes(StandardCharsets.UTF_8);
    });
  }
}
