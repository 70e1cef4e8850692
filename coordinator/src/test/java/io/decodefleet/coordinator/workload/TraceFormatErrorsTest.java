package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TraceFormatErrorsTest {

  private static TraceFormatException failure(Path file) {
    return assertThrows(TraceFormatException.class,
        () -> TraceReader.read(file, TraceOptions.AS_RECORDED, 1000, 4096, 42));
  }

  @ParameterizedTest(name = "{0} fails at line {1}")
  @CsvSource(delimiter = '|', textBlock = """
      bad-columns.csv          | 3 | expected 3 columns
      bad-zero-generated.csv   | 4 | GeneratedTokens must be >= 1, got 0
      bad-negative-context.csv | 2 | ContextTokens must be >= 1, got -5
      bad-timestamp.csv        | 3 | TIMESTAMP '2023-11-16T18:15:50' is not a time
      bad-number.csv           | 2 | GeneratedTokens 'forty' is not an integer
      bad-missing-header.csv   | 1 | missing header
      bad-unknown-field.jsonl  | 2 | unknown field 'priority'
      bad-missing-output.jsonl | 3 | missing field 'output_len'
      bad-token-id.jsonl       | 1 | prompt_tokens[2] must be a token id in [0, 1000), got 1000
      bad-negative-arrival.jsonl | 1 | arrival_s must be a number of seconds >= 0
      bad-json.jsonl           | 2 | not valid JSON at column 50: Unexpected end-of-input
      """)
  void malformedLineIsNamedByFileAndLine(String name, int line, String problem) {
    Path file = TraceReaderTest.trace(name);
    TraceFormatException e = failure(file);
    assertTrue(e.getMessage().startsWith(file + ":" + line + ": " + problem), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertEquals(line, e.line());
    assertEquals(file, e.file());
  }

  @ParameterizedTest
  @CsvSource({"bad-header-only.csv", "bad-empty.jsonl"})
  void traceWithoutRequestsSaysSo(String name) {
    Path file = TraceReaderTest.trace(name);
    assertEquals(file + ": no requests", failure(file).getMessage());
  }

  @Test
  void unknownExtensionIsRejected(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("trace.txt"), "{\"arrival_s\": 0, \"prompt_len\": 1, \"output_len\": 1}\n");
    assertEquals(file + ": unknown trace format: expected a .jsonl or .csv file", failure(file).getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      {"arrival_s": 0, "prompt_len": 3, "prompt_tokens": [1], "output_len": 1} | give either 'prompt_tokens' or 'prompt_len', not both
      {"arrival_s": 0, "output_len": 1}                                     | missing field 'prompt_tokens' or 'prompt_len'
      {"prompt_len": 3, "output_len": 1}                                    | missing field 'arrival_s'
      {"arrival_s": "0", "prompt_len": 3, "output_len": 1}                  | arrival_s must be a number of seconds >= 0
      {"arrival_s": 0, "prompt_len": 3, "output_len": 2.5}                  | output_len must be an integer >= 1, got 2.5
      {"arrival_s": 0, "prompt_len": 0, "output_len": 1}                    | prompt_len must be an integer >= 1, got 0
      {"arrival_s": 0, "prompt_tokens": [], "output_len": 1}                | prompt_tokens must be a non-empty array
      {"arrival_s": 0, "prompt_tokens": [-1], "output_len": 1}              | prompt_tokens[0] must be a token id
      {"arrival_s": 0, "arrival_s": 1, "prompt_len": 3, "output_len": 1}    | not valid JSON
      {"arrival_s": 0, "prompt_len": 3, "output_len": 1} {}                 | not valid JSON
      [1, 2, 3]                                                             | expected a JSON object, got array
      """)
  void badJsonlFieldIsNamedOnItsLine(String json, String problem, @TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("t.jsonl"), "\n" + json + "\n");
    String message = failure(file).getMessage();
    assertTrue(message.startsWith(file + ":2: " + problem), message);
    assertFalse(message.contains("\n"), message);
  }
}
