package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Path;

/**
 * The one JSON reading rule of checkpoints (config.json, the shard index, safetensors headers): a
 * key given twice or anything after the top-level value is malformed, and a parse error becomes one
 * line naming the file, the line and the column.
 */
final class JsonFiles {
  private static final ObjectMapper STRICT = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private JsonFiles() {}

  /** The JSON object in {@code bytes}, read from {@code file}; anything else is a CheckpointException. */
  static JsonNode object(Path file, byte[] bytes, String what) {
    JsonNode node;
    try {
      node = STRICT.readTree(bytes);
    } catch (JacksonException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw CheckpointException.file(file, "malformed JSON " + what + where + ": "
          + e.getOriginalMessage().replace('\n', ' '));
    } catch (java.io.IOException e) {
      throw CheckpointException.file(file, "cannot read " + what + ": " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw CheckpointException.file(file, what + " is not a JSON object");
    }
    return node;
  }
}
