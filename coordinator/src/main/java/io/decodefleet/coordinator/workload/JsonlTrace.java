package io.decodefleet.coordinator.workload;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A trace as JSON Lines, one request per line (blank lines skipped):
 *
 * <pre>
 * {"arrival_s": 0.25, "prompt_tokens": [17, 4, 99], "output_len": 32}
 * {"arrival_s": 1.5, "prompt_len": 512, "output_len": 128}
 * </pre>
 *
 * {@code arrival_s} is seconds from the start of the run (a number ≥ 0), {@code output_len} an
 * integer ≥ 1, and the prompt exactly one of {@code prompt_tokens} (non-empty array of token ids in
 * [0, vocab)) or {@code prompt_len} (integer ≥ 1; the tokens are then drawn from the seed). Any other
 * field is an error, so that a misspelt field is not silently ignored.
 *
 * <p>A line may instead be a row of the public Mooncake trace format (which AIPerf and SGLang's
 * benchmark replay), recognised by its fields:
 *
 * <pre>
 * {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 49]}
 * </pre>
 *
 * {@code timestamp} is milliseconds from the start, and {@code hash_ids} name the prompt's blocks of
 * the trace's block size (512 tokens by default): requests that share an id share that block's
 * tokens, so the trace's prefix sharing is replayed ({@link TraceReader} draws each id's tokens).
 */
final class JsonlTrace {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /** The latest arrival whose offset still fits a long of nanoseconds (about 292 years). */
  private static final long MAX_OFFSET_MS = Long.MAX_VALUE / 1_000_000L;
  private static final double MAX_OFFSET_S = MAX_OFFSET_MS / 1e3;

  private JsonlTrace() {}

  /**
   * Reads every line; rows stay in file order.
   *
   * @param text the file's text (see {@link TraceText}: its line numbers are the file's)
   */
  static List<TraceEntry> read(Path file, Reader text, int vocabSize) throws IOException, TraceFormatException {
    BufferedReader in = new BufferedReader(text);
    List<TraceEntry> entries = new ArrayList<>();
    int lineNo = 0;
    while (true) {
      String line;
      try {
        line = in.readLine();
      } catch (TraceText.NotUtf8 e) {
        throw new TraceFormatException(file, e.line(), e.getMessage());
      }
      if (line == null) return entries;
      lineNo++;
      if (line.isBlank()) continue;
      entries.add(parseLine(new LineContext(file, lineNo), line, vocabSize));
    }
  }

  private record LineContext(Path file, int line) {
    TraceFormatException error(String problem) {
      return new TraceFormatException(file, line, problem);
    }
  }

  private static TraceEntry parseLine(LineContext at, String line, int vocabSize) throws TraceFormatException {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      String column = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
      throw at.error("not valid JSON" + column + ": " + jacksonProblem(e));
    }
    if (!node.isObject()) throw at.error("expected a JSON object, got " + node.getNodeType().toString().toLowerCase(Locale.ROOT));

    if (node.has("hash_ids") || node.has("input_length") || node.has("timestamp")) return mooncake(at, node);
    Double arrivalS = null;
    int[] tokens = null;
    Integer promptLen = null;
    Integer outputLen = null;
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case "arrival_s" -> {
          if (!value.isNumber() || !Double.isFinite(value.doubleValue()) || value.doubleValue() < 0) {
            throw at.error("arrival_s must be a number of seconds >= 0, got " + value);
          }
          if (value.doubleValue() > MAX_OFFSET_S) {
            throw at.error("arrival_s must be at most " + (long) MAX_OFFSET_S + " seconds (292 years), got " + value);
          }
          arrivalS = value.doubleValue();
        }
        case "prompt_tokens" -> tokens = tokenIds(at, value, vocabSize);
        case "prompt_len" -> promptLen = positiveInt(at, "prompt_len", value);
        case "output_len" -> outputLen = positiveInt(at, "output_len", value);
        default -> throw at.error("unknown field '" + field.getKey()
            + "' (expected arrival_s, prompt_tokens or prompt_len, output_len)");
      }
    }
    if (arrivalS == null) throw at.error("missing field 'arrival_s'");
    if (outputLen == null) throw at.error("missing field 'output_len'");
    if (tokens == null && promptLen == null) throw at.error("missing field 'prompt_tokens' or 'prompt_len'");
    if (tokens != null && promptLen != null) throw at.error("give either 'prompt_tokens' or 'prompt_len', not both");
    return new TraceEntry(Math.round(arrivalS * 1e9), tokens, tokens != null ? tokens.length : promptLen, outputLen,
        at.line());
  }

  private static TraceEntry mooncake(LineContext at, JsonNode node) throws TraceFormatException {
    Long timestampMs = null;
    Integer inputLen = null;
    Integer outputLen = null;
    long[] hashIds = null;
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case "timestamp" -> {
          if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
            throw at.error("timestamp must be an integer number of milliseconds >= 0, got " + value);
          }
          if (value.longValue() > MAX_OFFSET_MS) {
            throw at.error("timestamp must be at most " + MAX_OFFSET_MS + " milliseconds (292 years), got " + value);
          }
          timestampMs = value.longValue();
        }
        case "input_length" -> inputLen = positiveInt(at, "input_length", value);
        case "output_length" -> outputLen = positiveInt(at, "output_length", value);
        case "hash_ids" -> {
          if (!value.isArray() || value.isEmpty()) throw at.error("hash_ids must be a non-empty array of integers");
          hashIds = new long[value.size()];
          for (int i = 0; i < hashIds.length; i++) {
            JsonNode h = value.get(i);
            if (!h.isIntegralNumber() || !h.canConvertToLong()) {
              throw at.error("hash_ids[" + i + "] must be an integer, got " + h);
            }
            hashIds[i] = h.longValue();
          }
        }
        default -> throw at.error("unknown field '" + field.getKey()
            + "' in a Mooncake row (expected timestamp, input_length, output_length, hash_ids)");
      }
    }
    if (timestampMs == null) throw at.error("missing field 'timestamp'");
    if (inputLen == null) throw at.error("missing field 'input_length'");
    if (outputLen == null) throw at.error("missing field 'output_length'");
    if (hashIds == null) throw at.error("missing field 'hash_ids'");
    return new TraceEntry(timestampMs * 1_000_000L, null, inputLen, outputLen, hashIds, at.line());
  }

  /** Jackson's message without the source excerpt it appends to some messages, on one line. */
  private static String jacksonProblem(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    int excerpt = message.indexOf(" (start marker at");
    return (excerpt >= 0 ? message.substring(0, excerpt) : message).replaceAll("\\s+", " ").strip();
  }

  private static int[] tokenIds(LineContext at, JsonNode value, int vocabSize) throws TraceFormatException {
    if (!value.isArray() || value.isEmpty()) throw at.error("prompt_tokens must be a non-empty array of token ids");
    int[] tokens = new int[value.size()];
    for (int i = 0; i < tokens.length; i++) {
      JsonNode t = value.get(i);
      if (!t.isIntegralNumber() || !t.canConvertToInt() || t.intValue() < 0 || t.intValue() >= vocabSize) {
        throw at.error("prompt_tokens[" + i + "] must be a token id in [0, " + vocabSize + "), got " + t);
      }
      tokens[i] = t.intValue();
    }
    return tokens;
  }

  private static int positiveInt(LineContext at, String name, JsonNode value) throws TraceFormatException {
    if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 1) {
      throw at.error(name + " must be an integer >= 1, got " + value);
    }
    return value.intValue();
  }
}
