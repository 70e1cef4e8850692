package io.decodefleet.coordinator.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.generation.GenerationEvent;

/**
 * The bodies the OpenAI API answers with, as its clients parse them: completions and chat
 * completions (whole, and as stream chunks), usage, errors, the model list. Field order follows
 * OpenAI's own responses.
 */
final class OpenAiJson {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private OpenAiJson() {}

  /** OpenAI's error shape: {@code {"error": {"message", "type", "param", "code"}}}. */
  static ObjectNode error(String message, String type, String param, String code) {
    ObjectNode e = JSON.objectNode();
    e.put("message", message);
    e.put("type", type);
    if (param == null) e.putNull("param"); else e.put("param", param);
    if (code == null) e.putNull("code"); else e.put("code", code);
    ObjectNode o = JSON.objectNode();
    o.set("error", e);
    return o;
  }

  static ObjectNode usage(int promptTokens, int completionTokens) {
    ObjectNode u = JSON.objectNode();
    u.put("prompt_tokens", promptTokens);
    u.put("completion_tokens", completionTokens);
    u.put("total_tokens", promptTokens + completionTokens);
    return u;
  }

  /** The head every completion object and chunk shares. */
  private static ObjectNode head(String id, boolean chat, boolean chunk, long created, String model) {
    ObjectNode o = JSON.objectNode();
    o.put("id", id);
    o.put("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
    o.put("created", created);
    o.put("model", model);
    return o;
  }

  /** A whole (non-streamed) answer. */
  static ObjectNode completion(String id, OpenAiRequest r, long created, String text, int[] tokenIds,
      GenerationEvent.Done done) {
    ObjectNode o = head(id, r.chat(), false, created, r.model());
    ObjectNode choice = o.putArray("choices").addObject();
    choice.put("index", 0);
    if (r.chat()) {
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      message.put("content", text);
    } else {
      choice.put("text", text);
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", done.finishReason());
    if (r.returnTokenIds()) ids(choice.putArray("token_ids"), tokenIds);
    o.set("usage", usage(done.promptTokens(), done.completionTokens()));
    return o;
  }

  /**
   * One stream chunk with one choice: a delta of text (and, for chat, the role on the first), or the
   * last chunk with its finish reason and no text.
   */
  static ObjectNode chunk(String id, OpenAiRequest r, long created, String text, boolean first, int[] tokenIds,
      String finishReason) {
    ObjectNode o = head(id, r.chat(), true, created, r.model());
    ObjectNode choice = o.putArray("choices").addObject();
    choice.put("index", 0);
    if (r.chat()) {
      ObjectNode delta = choice.putObject("delta");
      if (first) delta.put("role", "assistant");
      if (text != null) delta.put("content", text);
    } else {
      choice.put("text", text == null ? "" : text);
    }
    choice.putNull("logprobs");
    if (finishReason == null) choice.putNull("finish_reason"); else choice.put("finish_reason", finishReason);
    if (r.returnTokenIds() && tokenIds != null) ids(choice.putArray("token_ids"), tokenIds);
    if (r.includeUsage()) o.putNull("usage");
    return o;
  }

  /** The chunk after the last choice when {@code stream_options.include_usage}: no choices, the usage. */
  static ObjectNode usageChunk(String id, OpenAiRequest r, long created, GenerationEvent.Done done) {
    ObjectNode o = head(id, r.chat(), true, created, r.model());
    o.putArray("choices");
    o.set("usage", usage(done.promptTokens(), done.completionTokens()));
    return o;
  }

  static ObjectNode models(String model, long created, int contextTokens) {
    ObjectNode o = JSON.objectNode();
    o.put("object", "list");
    ObjectNode m = o.putArray("data").addObject();
    m.put("id", model);
    m.put("object", "model");
    m.put("created", created);
    m.put("owned_by", "decodefleet");
    m.put("max_model_len", contextTokens);
    return o;
  }

  private static void ids(ArrayNode a, int[] ids) {
    for (int t : ids) a.add(t);
  }
}
