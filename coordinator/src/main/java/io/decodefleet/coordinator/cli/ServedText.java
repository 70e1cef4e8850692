package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.openai.OpenAiRequest;
import io.decodefleet.coordinator.openai.TemplatePrompts;
import io.decodefleet.coordinator.text.ChatTemplate;
import io.decodefleet.coordinator.text.Tokenizer;
import java.nio.file.Path;

/**
 * What {@code serve} needs to speak text: the tokenizer (a tokenizer.json, or the built-in byte
 * tokenizer), the chat template, and the limits a request is checked against.
 */
record ServedText(Tokenizer tokenizer, ChatTemplate template, ModelLimits limits) {

  /** @throws UsageError with one line when the tokenizer or template cannot be used */
  static ServedText load(ModelSpec model, Path tokenizerJson, Path chatTemplate, String servedName,
      int defaultMaxTokens) throws UsageError {
    ModelConfig config = ModelConfig.resolve(model.model());
    Path beside = ModelConfig.isPreset(model.model()) ? null : Path.of(model.model(), "tokenizer.json");
    if (tokenizerJson == null && beside != null && java.nio.file.Files.isRegularFile(beside)) {
      tokenizerJson = beside; // as vLLM: a model directory's own tokenizer unless --tokenizer names another
    }
    try {
      Tokenizer tokenizer = Tokenizer.load(tokenizerJson, config.vocabSize());
      ChatTemplate template = ChatTemplate.load(chatTemplate, tokenizerJson, tokenizer);
      String name = servedName == null || servedName.isBlank() ? model.model() : servedName;
      return new ServedText(tokenizer, template, new ModelLimits(name, config.vocabSize(),
          config.maxPositionEmbeddings(), tokenizer.eosTokenIds(), defaultMaxTokens));
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  OpenAiRequest.Prompts prompts() {
    return new TemplatePrompts(tokenizer, template);
  }

  /** e.g. "tokenizer byte-level (258 ids, BOS 256, EOS [257]), chat template built-in". */
  String describe() {
    return "tokenizer " + tokenizer.name() + " (" + tokenizer.vocabSize() + " ids, BOS "
        + (tokenizer.bosTokenId().isPresent() ? String.valueOf(tokenizer.bosTokenId().getAsInt()) : "none") + ", EOS "
        + java.util.Arrays.toString(tokenizer.eosTokenIds()) + "), chat template " + template.origin();
  }
}
