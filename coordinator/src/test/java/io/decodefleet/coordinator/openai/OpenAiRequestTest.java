package io.decodefleet.coordinator.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.decodefleet.coordinator.text.ChatTemplate;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Bodies whose 400 once named a field the client did not send, or that were accepted with a part ignored. */
class OpenAiRequestTest {
  private static final ModelLimits LIMITS = new ModelLimits("tiny", 1024, 2048, new int[] {257}, 16);
  private static final OpenAiRequest.Prompts PROMPTS = new TemplatePrompts(new ByteTokenizer(), ChatTemplate.builtIn());
  private static final String CHAT = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}]%s}";
  private static final String COMPLETION = "{\"model\": \"tiny\", \"prompt\": \"a\"%s}";

  private static OpenAiRequest read(String body, boolean chat) {
    return OpenAiRequest.read(body.getBytes(StandardCharsets.UTF_8), chat, PROMPTS, LIMITS);
  }

  private static InvalidField refused(String body, boolean chat) {
    return assertThrows(InvalidField.class, () -> read(body, chat));
  }

  /** Regression: the param was "include_usage", which is no field of the body. */
  @Test
  void aStreamOptionsFieldIsNamedByItsPath() {
    InvalidField e = refused(String.format(COMPLETION, ", \"stream\": true, \"stream_options\": {\"include_usage\": 1}"),
        false);
    assertEquals("stream_options.include_usage", e.field());
    assertEquals("stream_options.include_usage: must be true or false, got 1", e.getMessage());
  }

  /** Regression: a chat whose messages outgrow the context got param "prompt", a completions field. */
  @Test
  void aChatTooLongForTheContextNamesItsMessages() {
    InvalidField e = refused(String.format(CHAT, "x".repeat(3000), ""), true);
    assertEquals("messages", e.field());
    assertEquals("messages: a 3025-token prompt plus 1 output token exceeds model tiny's context of 2048 tokens",
        e.getMessage());
  }

  /** Regression: max_completion_tokens beyond the context was reported as max_tokens, which the chat did not send. */
  @Test
  void maxCompletionTokensIsNamedAsTheChatSentIt() {
    InvalidField e = refused(String.format(CHAT, "hi", ", \"max_completion_tokens\": 5000"), true);
    assertEquals("max_completion_tokens", e.field());
    assertEquals("max_completion_tokens: a 27-token prompt plus up to 5000 output tokens exceeds model tiny's context "
        + "of 2048 tokens", e.getMessage());
    InvalidField min = refused(String.format(CHAT, "hi", ", \"max_completion_tokens\": 4, \"min_tokens\": 5"), true);
    assertEquals("min_tokens: must be <= max_completion_tokens (4), got 5", min.getMessage());
    assertEquals("max_tokens", refused(String.format(COMPLETION, ", \"max_tokens\": 5000"), false).field());
  }

  /** Regression: logit_bias and tools of any scalar were accepted and ignored (a scalar "is empty" to Jackson). */
  @Test
  void logitBiasAndToolsAreAcceptedOnlyEmpty() {
    assertEquals("logit_bias", refused(String.format(COMPLETION, ", \"logit_bias\": 5"), false).field());
    assertEquals("logit_bias", refused(String.format(COMPLETION, ", \"logit_bias\": {\"5\": 100}"), false).field());
    assertEquals("tools", refused(String.format(CHAT, "hi", ", \"tools\": \"all\""), true).field());
    read(String.format(COMPLETION, ", \"logit_bias\": {}"), false);
    read(String.format(CHAT, "hi", ", \"tools\": []"), true);
  }

  /** Regression: whatever followed the body's JSON object was ignored. */
  @Test
  void textAfterTheBodysJsonIsRefused() {
    InvalidField e = refused(String.format(COMPLETION, "") + " {\"max_tokens\": 3}", false);
    assertEquals("body", e.field());
    assertTrue(e.getMessage().startsWith("body: not valid JSON: "), e.getMessage());
    assertEquals(1, read(String.format(COMPLETION, "") + " \n", false).generation().promptTokens().length - 1);
  }
}
