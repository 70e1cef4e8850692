package io.decodefleet.coordinator.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One message of an OpenAI chat request, as a chat template sees it.
 *
 * @param role {@code system}, {@code user}, {@code assistant}, ... (passed on as given: the template
 *     decides which roles it accepts)
 * @param content the message's text
 */
public record ChatMessage(String role, String content) {

  /** How the text parts of one message's content are joined (as vLLM joins them). */
  public static final String PART_SEPARATOR = "\n";

  public ChatMessage {
    if (role == null || content == null) {
      throw new IllegalArgumentException("a chat message needs a role and a content");
    }
  }

  /**
   * The {@code messages} of a chat request. A content is a string, null or absent (an empty text), or
   * a list of parts of which only {@code {"type": "text", "text": ...}} is accepted; the texts of the
   * parts are joined with {@value #PART_SEPARATOR}.
   *
   * @throws IllegalArgumentException naming the offending field, e.g. {@code messages[1].content[0].type}
   */
  public static List<ChatMessage> listOf(JsonNode messages) {
    if (messages == null || !messages.isArray()) {
      throw new IllegalArgumentException("messages must be a list of {role, content} objects");
    }
    List<ChatMessage> out = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      JsonNode message = messages.get(i);
      String where = "messages[" + i + "]";
      if (!message.isObject()) {
        throw new IllegalArgumentException(where + " must be an object with a role and a content");
      }
      if (!message.path("role").isTextual()) {
        throw new IllegalArgumentException(where + ".role must be a string");
      }
      out.add(new ChatMessage(message.get("role").asText(), content(message.path("content"), where + ".content")));
    }
    return List.copyOf(out);
  }

  private static String content(JsonNode content, String where) {
    if (content.isMissingNode() || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (!content.isArray()) {
      throw new IllegalArgumentException(where + " must be a string or a list of {type: \"text\", text} parts");
    }
    List<String> texts = new ArrayList<>();
    for (int j = 0; j < content.size(); j++) {
      JsonNode part = content.get(j);
      String partWhere = where + "[" + j + "]";
      if (!part.isObject()) {
        throw new IllegalArgumentException(partWhere + " must be an object {type: \"text\", text}");
      }
      JsonNode type = part.path("type");
      if (!type.isTextual() || !type.asText().equals("text")) {
        throw new IllegalArgumentException(partWhere + ".type is " + (type.isMissingNode() ? "missing" : type)
            + ": only \"text\" parts are supported");
      }
      if (!part.path("text").isTextual()) {
        throw new IllegalArgumentException(partWhere + ".text must be a string");
      }
      texts.add(part.get("text").asText());
    }
    return String.join(PART_SEPARATOR, texts);
  }
}
