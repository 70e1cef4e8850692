package io.decodefleet.coordinator.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * The id-to-token table of a Hugging Face {@code tokenizer.json}, read from the JSON itself because the
 * native binding does not expose it: how many ids there are (checked against the model's vocabulary),
 * which ids exist at all (others decode as {@code <|id:N|>}), and which string names which id (to
 * resolve the BOS/EOS strings of {@code tokenizer_config.json}).
 *
 * <p>Ids come from {@code model.vocab} (an object token -> id for BPE, WordLevel and WordPiece; a list of
 * {@code [piece, score]} for Unigram, the id being the index) and from {@code added_tokens}
 * ({@code {id, content, special}}), which win when both name a string.
 */
final class TokenizerVocabulary {

  /** Ids from here on are refused before an array that large is allocated (the largest vocabularies hold ~2^18). */
  private static final int MAX_ID = 1 << 24;

  /** (vocabSize) the token of each id; null for an id neither table holds */
  private final String[] tokens;
  private final Map<String, Integer> ids;

  private TokenizerVocabulary(String[] tokens, Map<String, Integer> ids) {
    this.tokens = tokens;
    this.ids = ids;
  }

  /**
   * @param root the parsed tokenizer.json
   * @throws IllegalArgumentException naming the field that is missing or malformed
   */
  static TokenizerVocabulary of(JsonNode root) {
    if (!root.isObject()) {
      throw new IllegalArgumentException("is not a tokenizer.json: its top level is not a JSON object");
    }
    JsonNode vocab = root.path("model").path("vocab");
    Map<String, Integer> ids = new HashMap<>();
    Map<Integer, String> byId = new HashMap<>();
    if (vocab.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        int id = id(entry.getValue(), "model.vocab[\"" + entry.getKey() + "\"]");
        ids.put(entry.getKey(), id);
        byId.put(id, entry.getKey());
      }
    } else if (vocab.isArray()) {
      for (int i = 0; i < vocab.size(); i++) {
        JsonNode piece = vocab.get(i);
        if (!piece.isArray() || !piece.path(0).isTextual()) {
          throw new IllegalArgumentException("model.vocab[" + i + "] is not a [piece, score] pair");
        }
        ids.putIfAbsent(piece.get(0).asText(), i);
        byId.put(i, piece.get(0).asText());
      }
    } else {
      throw new IllegalArgumentException("is not a tokenizer.json: it has no model.vocab (object or list)");
    }
    // Added tokens come last: where they name a string or an id again, theirs wins (as in the library).
    JsonNode added = root.path("added_tokens");
    for (int i = 0; i < added.size(); i++) {
      JsonNode token = added.get(i);
      if (!token.path("content").isTextual()) {
        throw new IllegalArgumentException("added_tokens[" + i + "] has no content string");
      }
      int id = id(token.path("id"), "added_tokens[" + i + "].id");
      ids.put(token.get("content").asText(), id);
      byId.put(id, token.get("content").asText());
    }
    String[] tokens = new String[byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
    byId.forEach((id, token) -> tokens[id] = token);
    return new TokenizerVocabulary(tokens, Map.copyOf(ids));
  }

  private static int id(JsonNode node, String where) {
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
      throw new IllegalArgumentException(where + " is not a token id (a non-negative integer): " + node);
    }
    if (node.asInt() >= MAX_ID) {
      throw new IllegalArgumentException(where + " is " + node.asInt() + ", past any model's vocabulary (2^24 ids)");
    }
    return node.asInt();
  }

  /** One more than the largest id. */
  int size() {
    return tokens.length;
  }

  /** Whether {@code id} names a token (ids in gaps of the table, or past its end, do not). */
  boolean contains(int id) {
    return id >= 0 && id < tokens.length && tokens[id] != null;
  }

  /** The token of {@code id}; see {@link #contains}. */
  String token(int id) {
    if (!contains(id)) {
      throw new IllegalArgumentException("the tokenizer has no token " + id + " (its ids are 0.." + (size() - 1)
          + (id >= 0 && id < size() ? ", with gaps" : "") + ")");
    }
    return tokens[id];
  }

  /** The id of the token that is exactly {@code token}. */
  Optional<Integer> id(String token) {
    return Optional.ofNullable(ids.get(token));
  }
}
