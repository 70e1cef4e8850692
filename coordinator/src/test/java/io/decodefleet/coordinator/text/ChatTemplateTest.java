package io.decodefleet.coordinator.text;

import static io.decodefleet.coordinator.text.HfTokenizerTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {

  /** Llama 3 instruct's template, as its tokenizer_config.json has it (Jinja's '\n' escapes written out). */
  static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
      + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
      + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
      + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

  private static final List<ChatMessage> CONVERSATION = List.of(
      new ChatMessage("system", "  Be brief.\n"),
      new ChatMessage("user", "What is 2+2?"),
      new ChatMessage("assistant", "4"),
      new ChatMessage("user", "And 3+3?"));

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path folder;

  @Test
  void aLlama3TemplateRendersExactlyAsTransformersDoes() {
    ChatTemplate template = ChatTemplate.jinja(LLAMA3, "llama3", Optional.of("<|begin_of_text|>"),
        Optional.of("<|eot_id|>"));

    assertEquals("<|begin_of_text|>"
        + "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\n", template.render(CONVERSATION, true));
    assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        template.render(List.of(new ChatMessage("user", "Hi")), false));
    assertFalse(template.encodeWithSpecialTokens(), "the template wrote bos_token: adding it again doubles it");
  }

  @Test
  void blockTagsOnTheirOwnLinesLeaveNoBlankLinesAsWithTrimAndLstripBlocks() {
    String source = "{% for message in messages %}\n"
        + "  {% if message.role == 'user' %}\n"
        + "U: {{ message.content }}\n"
        + "  {% else %}\n"
        + "A: {{ message.content }}\n"
        + "  {% endif %}\n"
        + "{% endfor %}\n"
        + "{%- if add_generation_prompt %}A:{% endif %}";
    ChatTemplate template = ChatTemplate.jinja(source, "test", Optional.empty(), Optional.empty());

    assertEquals("U: hi\nA: yo\nA:", template.render(List.of(new ChatMessage("user", "hi"),
        new ChatMessage("assistant", "yo")), true));
  }

  @Test
  void theBuiltInDefaultIsRoleMarkersAndContentOnLines() {
    ChatTemplate template = ChatTemplate.builtIn();

    assertEquals("<|system|>\n  Be brief.\n\n<|user|>\nWhat is 2+2?\n<|assistant|>\n4\n<|user|>\nAnd 3+3?\n"
        + "<|assistant|>\n", template.render(CONVERSATION, true));
    assertEquals("<|user|>\nHi\n", template.render(List.of(new ChatMessage("user", "Hi")), false));
    assertEquals(ChatTemplate.BUILT_IN, template.origin());
    assertTrue(template.encodeWithSpecialTokens(), "the built-in template writes no BOS: the tokenizer adds it");
  }

  @Test
  void raiseExceptionFailsRenderingWithTheTemplatesMessage() {
    String source = "{% if messages[0]['role'] == 'system' %}"
        + "{{ raise_exception('System role not supported') }}{% endif %}"
        + "{% for message in messages %}{{ message['content'] }}{% endfor %}";
    ChatTemplate template = ChatTemplate.jinja(source, "test", Optional.empty(), Optional.empty());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> template.render(CONVERSATION, true));

    assertEquals("System role not supported", e.getMessage());
    assertEquals("4", template.render(List.of(new ChatMessage("assistant", "4")), false));
  }

  @Test
  void contentPartsAreJoinedTextAndOtherPartTypesAreNamed() throws IOException {
    List<ChatMessage> messages = ChatMessage.listOf(JSON.readTree("[{\"role\": \"user\", \"content\": "
        + "[{\"type\": \"text\", \"text\": \"first\"}, {\"type\": \"text\", \"text\": \"second\"}]},"
        + " {\"role\": \"assistant\", \"content\": null}]"));

    assertEquals(List.of(new ChatMessage("user", "first\nsecond"), new ChatMessage("assistant", "")), messages);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatMessage.listOf(
        JSON.readTree("[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"user\", \"content\": "
            + "[{\"type\": \"text\", \"text\": \"look\"}, {\"type\": \"image_url\", \"image_url\": {}}]}]")));
    assertOneLine(e.getMessage(), "messages[1].content[1].type", "image_url");
  }

  @Test
  void malformedMessagesNameTheField() throws IOException {
    IllegalArgumentException role = assertThrows(IllegalArgumentException.class,
        () -> ChatMessage.listOf(JSON.readTree("[{\"content\": \"hi\"}]")));
    IllegalArgumentException content = assertThrows(IllegalArgumentException.class,
        () -> ChatMessage.listOf(JSON.readTree("[{\"role\": \"user\", \"content\": 7}]")));

    assertOneLine(role.getMessage(), "messages[0].role");
    assertOneLine(content.getMessage(), "messages[0].content");
  }

  @Test
  void theTemplateOfTokenizerConfigIsFoundBesideTheTokenizerWithItsBosAndEos() throws IOException {
    Path tokenizerJson = TinyBpeFiles.writeTokenizer(folder);
    JSON.writeValue(folder.resolve("tokenizer_config.json").toFile(),
        Map.of("bos_token", "<s>", "eos_token", "</s>", "chat_template", LLAMA3.replace("\\n", "\n")));
    Tokenizer tokenizer = Tokenizer.load(tokenizerJson, 1024);

    ChatTemplate template = ChatTemplate.load(null, tokenizerJson, tokenizer);

    assertEquals("<s><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        template.render(List.of(new ChatMessage("user", " Hi ")), false));
    assertEquals(folder.resolve("tokenizer_config.json") + " chat_template", template.origin());
  }

  @Test
  void chatTemplateJinjaBesideWinsOverTokenizerConfigAndAnExplicitFileWinsOverBoth() throws IOException {
    Path tokenizerJson = TinyBpeFiles.writeTokenizer(folder);
    TinyBpeFiles.write(folder, "tokenizer_config.json", "{\"chat_template\": \"from config\"}");
    Path beside = TinyBpeFiles.write(folder, "chat_template.jinja", "beside {{ eos_token }}");
    Path explicit = TinyBpeFiles.write(folder, "mine.jinja", "explicit");
    TinyBpeFiles.write(folder, "generation_config.json", "{\"eos_token_id\": [267, 266]}");
    Tokenizer tokenizer = Tokenizer.load(tokenizerJson, 1024);

    assertEquals("beside <|eot|>", ChatTemplate.load(null, tokenizerJson, tokenizer).render(List.of(), true));
    assertEquals(beside.toString(), ChatTemplate.load(null, tokenizerJson, tokenizer).origin());
    assertEquals("explicit", ChatTemplate.load(explicit, tokenizerJson, tokenizer).render(List.of(), true));
  }

  @Test
  void withoutAnyTemplateTheBuiltInIsUsedAndTheByteTokenizersSpecialsFillAnExplicitOne() throws IOException {
    Path tokenizerJson = TinyBpeFiles.writeTokenizer(folder);
    Path explicit = TinyBpeFiles.write(folder, "bos.jinja", "{{ bos_token }}|{{ eos_token }}");
    ByteTokenizer bytes = new ByteTokenizer();

    assertEquals(ChatTemplate.BUILT_IN, ChatTemplate.load(null, null, bytes).origin());
    assertEquals(ChatTemplate.BUILT_IN,
        ChatTemplate.load(null, tokenizerJson, Tokenizer.load(tokenizerJson, 1024)).origin());
    assertEquals("<|begin_of_text|>|<|end_of_text|>", ChatTemplate.load(explicit, null, bytes).render(List.of(), true));
  }

  @Test
  void aTemplateThatDoesNotParseIsRefusedAtLoadInOneLine() throws IOException {
    Path broken = TinyBpeFiles.write(folder, "broken.jinja", "{% for message in messages %}\n{{ message.content ");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChatTemplate.load(broken, null, new ByteTokenizer()));

    assertOneLine(e.getMessage(), "chat template " + broken, "line");
  }

  @Test
  void aMissingTemplateFileIsNamed() {
    Path missing = folder.resolve("missing.jinja");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChatTemplate.load(missing, null, new ByteTokenizer()));

    assertOneLine(e.getMessage(), missing.toString());
  }

  @Test
  void aPythonOnlyStringMethodFailsRenderingWithTheOriginAndLine() {
    // jinjava resolves methods on Java's String: Python's startswith does not exist there. (Its line
    // numbers are approximate inside block tags: here it names the line of the for.)
    ChatTemplate template = ChatTemplate.jinja("{% for m in messages %}\n{{ m.content.startswith('x') }}"
        + "{% endfor %}", "qwen-like", Optional.empty(), Optional.empty());

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> template.render(List.of(new ChatMessage("user", "xy")), true));

    assertOneLine(e.getMessage(), "chat template qwen-like: line ", "startswith");
  }

  @Test
  void includeIsRefused() {
    ChatTemplate template = ChatTemplate.jinja("{% include 'other.jinja' %}", "test", Optional.empty(),
        Optional.empty());

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> template.render(List.of(), true));

    assertOneLine(e.getMessage(), "chat template test");
  }
}
