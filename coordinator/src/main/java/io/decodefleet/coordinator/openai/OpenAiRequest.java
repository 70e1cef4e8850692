package io.decodefleet.coordinator.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.generation.GenerationFields;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.InvalidField;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code /v1/completions} or {@code /v1/chat/completions} body, checked field by field: every
 * field is either served, accepted only at its no-op value (n = 1, logprobs off, penalties 0, ...),
 * or refused with a 400 that names it. Unknown fields are refused too: a client that asks for
 * something the server would silently ignore gets told.
 *
 * @param chat whether it came to the chat endpoint
 * @param model the model named in the request
 * @param generation what to generate
 * @param stream whether the answer is a Server-Sent Events stream
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with the usage
 * @param returnTokenIds whether choices carry {@code token_ids} (as vLLM's extension)
 */
public record OpenAiRequest(boolean chat, String model, GenerationRequest generation, boolean stream,
    boolean includeUsage, boolean returnTokenIds) {

  /** How a request's prompt becomes token ids: text through the tokenizer, chat through the template. */
  public interface Prompts {
    int[] encodeText(String text);

    /** @param messages the request's {@code messages} array, as sent */
    int[] encodeChat(JsonNode messages);
  }

  /** One JSON document per body: anything after it is an error, not ignored. */
  private static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private static final Set<String> SAMPLING = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "seed",
      "stop", "stop_token_ids", "ignore_eos", "min_tokens", "stream", "stream_options", "skip_special_tokens",
      "return_token_ids", "user", "n", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias");
  private static final Set<String> COMPLETION_ONLY = Set.of("prompt", "logprobs", "echo", "best_of", "suffix");
  private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "logprobs", "top_logprobs",
      "tools", "tool_choice", "parallel_tool_calls", "response_format");
  /** The value at which an accepted-but-unserved field changes nothing. */
  private static final Map<String, String> NO_OP = Map.ofEntries(Map.entry("n", "1"), Map.entry("best_of", "1"),
      Map.entry("presence_penalty", "0"), Map.entry("frequency_penalty", "0"), Map.entry("repetition_penalty", "1"),
      Map.entry("echo", "false"), Map.entry("logprobs", "false"), Map.entry("top_logprobs", "0"),
      Map.entry("parallel_tool_calls", "true"), Map.entry("tool_choice", "\"none\""));

  /**
   * Reads a body as it came over the wire: JSON that does not parse is an {@link InvalidField}
   * naming {@code body}; otherwise as {@link #parse}.
   */
  public static OpenAiRequest read(byte[] body, boolean chat, Prompts prompts,
      io.decodefleet.coordinator.generation.ModelLimits limits) {
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new InvalidField("body", "not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidField("body", "unreadable: " + e.getMessage());
    }
    return parse(json, chat, prompts, limits);
  }

  /** Parses and checks a body; {@link InvalidField} names the first field that cannot be served. */
  public static OpenAiRequest parse(JsonNode body, boolean chat, Prompts prompts,
      io.decodefleet.coordinator.generation.ModelLimits limits) {
    if (body == null || !body.isObject()) throw new InvalidField("body", "must be a JSON object");
    ObjectNode o = (ObjectNode) body;
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!SAMPLING.contains(f) && !(chat ? CHAT_ONLY : COMPLETION_ONLY).contains(f)) {
        throw new InvalidField(f, "is not supported by this server");
      }
      JsonNode v = o.get(f);
      if (NO_OP.containsKey(f) && !v.isNull() && !NO_OP.get(f).equals(v.toString())) {
        throw new InvalidField(f, "only " + NO_OP.get(f) + " is supported, got " + v);
      }
    }
    // isEmpty() is true of any scalar: only an empty object (array) is the no-op value.
    if (o.hasNonNull("logit_bias") && !(o.get("logit_bias").isObject() && o.get("logit_bias").isEmpty())) {
      throw new InvalidField("logit_bias", "is not supported by this server (only {} is)");
    }
    if (o.hasNonNull("response_format") && !"text".equals(text(o, "response_format.type", o.get("response_format")
        .get("type")))) {
      throw new InvalidField("response_format", "only {\"type\": \"text\"} is supported");
    }
    if (o.hasNonNull("tools") && !(o.get("tools").isArray() && o.get("tools").isEmpty())) {
      throw new InvalidField("tools", "are not supported (only [] is)");
    }
    if (o.hasNonNull("suffix")) throw new InvalidField("suffix", "is not supported by this server");
    String model = text(o, "model", o.get("model"));
    if (model == null) throw new InvalidField("model", "is required");

    int[] prompt;
    if (chat) {
      JsonNode messages = o.get("messages");
      if (messages == null || !messages.isArray() || messages.isEmpty()) {
        throw new InvalidField("messages", "must be a non-empty array of messages");
      }
      prompt = prompts.encodeChat(messages);
    } else {
      prompt = completionPrompt(o.get("prompt"), prompts);
    }
    String maxTokensField = chat && o.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    Integer maxTokens = integer(o, maxTokensField);
    GenerationFields fields = new GenerationFields(maxTokens, number(o, "temperature"), number(o, "top_p"),
        integer(o, "top_k"), longValue(o, "seed"), integers(o, "stop_token_ids"), bool(o, "ignore_eos"),
        integer(o, "min_tokens"), stops(o.get("stop")), bool(o, "skip_special_tokens"));
    boolean stream = Boolean.TRUE.equals(bool(o, "stream"));
    JsonNode options = o.get("stream_options");
    boolean includeUsage = false;
    if (options != null && !options.isNull()) {
      if (!stream) throw new InvalidField("stream_options", "is only allowed with \"stream\": true");
      if (!options.isObject()) throw new InvalidField("stream_options", "must be an object");
      for (Iterator<String> it = options.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!f.equals("include_usage") && !f.equals("continuous_usage_stats")) {
          throw new InvalidField("stream_options." + f, "is not supported by this server");
        }
      }
      includeUsage = Boolean.TRUE.equals(bool((ObjectNode) options, "include_usage", "stream_options.include_usage"));
      if (Boolean.TRUE.equals(bool((ObjectNode) options, "continuous_usage_stats",
          "stream_options.continuous_usage_stats"))) {
        throw new InvalidField("stream_options.continuous_usage_stats", "is not supported by this server");
      }
    }
    GenerationRequest generation;
    try {
      generation = fields.toRequest(prompt, limits);
    } catch (InvalidField e) {
      // GenerationFields names the fields as the completions endpoint spells them.
      if (e.field().equals("prompt") && chat) throw new InvalidField("messages", e.getMessage().substring("prompt: ".length()));
      throw renamed(e, "max_tokens", maxTokensField);
    }
    return new OpenAiRequest(chat, model, generation, stream, includeUsage,
        Boolean.TRUE.equals(bool(o, "return_token_ids")));
  }

  /** {@code e} with the field {@code from} written as {@code to}, as its field and in its message. */
  private static InvalidField renamed(InvalidField e, String from, String to) {
    if (from.equals(to) || !e.getMessage().contains(from)) return e;
    String field = e.field().equals(from) ? to : e.field();
    return new InvalidField(field, e.getMessage().substring(e.field().length() + 2).replace(from, to));
  }

  private static int[] completionPrompt(JsonNode p, Prompts prompts) {
    if (p == null || p.isNull()) throw new InvalidField("prompt", "is required");
    if (p.isTextual()) return prompts.encodeText(p.asText());
    if (!p.isArray() || p.isEmpty()) {
      throw new InvalidField("prompt", "must be a string, an array of token ids, or an array holding one of those");
    }
    if (p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) return completionPrompt(p.get(0), prompts);
    if (p.get(0).isTextual() || p.get(0).isArray()) {
      throw new InvalidField("prompt", "holds " + p.size() + " prompts; send one prompt per request");
    }
    int[] ids = new int[p.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode t = p.get(i);
      if (!t.isIntegralNumber() || !t.canConvertToInt()) {
        throw new InvalidField("prompt", "element " + i + " is not a token id: " + t);
      }
      ids[i] = t.intValue();
    }
    return ids;
  }

  private static List<String> stops(JsonNode s) {
    if (s == null || s.isNull()) return null;
    if (s.isTextual()) return List.of(s.asText());
    if (!s.isArray()) throw new InvalidField("stop", "must be a string or an array of strings");
    List<String> out = new ArrayList<>();
    for (JsonNode e : s) {
      if (!e.isTextual()) throw new InvalidField("stop", "must be a string or an array of strings, got " + e);
      out.add(e.asText());
    }
    return out;
  }

  private static String text(ObjectNode o, String field, JsonNode v) {
    if (v == null || v.isNull()) return null;
    if (!v.isTextual()) throw new InvalidField(field, "must be a string, got " + v);
    return v.asText();
  }

  private static Integer integer(ObjectNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new InvalidField(field, "must be an integer, got " + v);
    return v.intValue();
  }

  private static Long longValue(ObjectNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new InvalidField(field, "must be an integer, got " + v);
    return v.longValue();
  }

  private static Double number(ObjectNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isNumber()) throw new InvalidField(field, "must be a number, got " + v);
    return v.doubleValue();
  }

  private static Boolean bool(ObjectNode o, String field) {
    return bool(o, field, field);
  }

  /** @param param how an error names the field (its path from the body) */
  private static Boolean bool(ObjectNode o, String field, String param) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isBoolean()) throw new InvalidField(param, "must be true or false, got " + v);
    return v.booleanValue();
  }

  private static List<Integer> integers(ObjectNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) return null;
    if (!v.isArray()) throw new InvalidField(field, "must be an array of integers, got " + v);
    List<Integer> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isIntegralNumber() || !e.canConvertToInt()) throw new InvalidField(field, "must hold integers, got " + e);
      out.add(e.intValue());
    }
    return out;
  }
}
