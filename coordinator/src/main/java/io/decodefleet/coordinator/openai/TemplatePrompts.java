package io.decodefleet.coordinator.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.text.ChatMessage;
import io.decodefleet.coordinator.text.ChatTemplate;
import io.decodefleet.coordinator.text.Tokenizer;
import java.util.List;

/**
 * Prompts as vLLM's OpenAI server builds them: a completion's text is encoded with the tokenizer's
 * special tokens (BOS), a chat's messages are rendered by the chat template and encoded without
 * adding any where the template writes its own (a model's Jinja template), with them otherwise.
 */
public final class TemplatePrompts implements OpenAiRequest.Prompts {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;

  public TemplatePrompts(Tokenizer tokenizer, ChatTemplate template) {
    this.tokenizer = tokenizer;
    this.template = template;
  }

  @Override
  public int[] encodeText(String text) {
    return tokenizer.encode(text, true);
  }

  @Override
  public int[] encodeChat(JsonNode messages) {
    List<ChatMessage> list;
    try {
      list = ChatMessage.listOf(messages);
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      int space = message.indexOf(' ');
      String field = space > 0 && message.startsWith("messages") ? message.substring(0, space) : "messages";
      throw new InvalidField(field, space > 0 && message.startsWith("messages") ? message.substring(space + 1) : message);
    }
    String prompt;
    try {
      prompt = template.render(list, true);
    } catch (IllegalArgumentException e) {
      throw new InvalidField("messages", "the chat template refused them: " + e.getMessage());
    }
    return tokenizer.encode(prompt, template.encodeWithSpecialTokens());
  }
}
