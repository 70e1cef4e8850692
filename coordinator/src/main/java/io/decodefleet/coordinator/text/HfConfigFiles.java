package io.decodefleet.coordinator.text;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The JSON files a Hugging Face model folder keeps beside {@code tokenizer.json}, as far as text needs
 * them: {@code tokenizer_config.json} (the BOS/EOS strings and the chat template) and
 * {@code generation_config.json} (the ids that end generation). Each is optional; a file that is there
 * but unreadable or malformed is an error, named in one line.
 */
final class HfConfigFiles {

  static final String TOKENIZER_CONFIG = "tokenizer_config.json";
  static final String GENERATION_CONFIG = "generation_config.json";
  /** Where recent versions of transformers save the chat template, instead of tokenizer_config.json. */
  static final String CHAT_TEMPLATE = "chat_template.jinja";

  private static final ObjectMapper JSON = new ObjectMapper();

  private HfConfigFiles() {}

  /**
   * What {@code tokenizer_config.json} says.
   *
   * @param bosToken {@code bos_token}: a string, or an object whose {@code content} is the string
   * @param eosToken {@code eos_token}, the same way
   * @param chatTemplate {@code chat_template}: a string, or from a list of {@code {name, template}} the
   *     one named {@code default}
   */
  record TokenizerConfig(Optional<String> bosToken, Optional<String> eosToken, Optional<String> chatTemplate) {
    static final TokenizerConfig NONE = new TokenizerConfig(Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * What {@code generation_config.json} says.
   *
   * @param eosTokenIds {@code eos_token_id}: one id or a list, in the file's order
   */
  record GenerationConfig(OptionalInt bosTokenId, List<Integer> eosTokenIds) {
    static final GenerationConfig NONE = new GenerationConfig(OptionalInt.empty(), List.of());
  }

  /** {@code tokenizer_config.json} in {@code folder}, or {@link TokenizerConfig#NONE} when there is none. */
  static TokenizerConfig tokenizerConfig(Path folder) {
    Path file = folder.resolve(TOKENIZER_CONFIG);
    if (!Files.exists(file)) {
      return TokenizerConfig.NONE;
    }
    JsonNode root = readJson(file);
    return new TokenizerConfig(tokenString(root, "bos_token", file), tokenString(root, "eos_token", file),
        chatTemplate(root.path("chat_template"), file));
  }

  /** {@code generation_config.json} in {@code folder}, or {@link GenerationConfig#NONE} when there is none. */
  static GenerationConfig generationConfig(Path folder) {
    Path file = folder.resolve(GENERATION_CONFIG);
    if (!Files.exists(file)) {
      return GenerationConfig.NONE;
    }
    JsonNode root = readJson(file);
    JsonNode bos = root.path("bos_token_id");
    OptionalInt bosId = bos.isMissingNode() || bos.isNull() ? OptionalInt.empty()
        : OptionalInt.of(tokenId(bos, "bos_token_id", file));
    JsonNode eos = root.path("eos_token_id");
    List<Integer> eosIds = new ArrayList<>();
    if (eos.isArray()) {
      for (int i = 0; i < eos.size(); i++) {
        eosIds.add(tokenId(eos.get(i), "eos_token_id[" + i + "]", file));
      }
    } else if (!eos.isMissingNode() && !eos.isNull()) {
      eosIds.add(tokenId(eos, "eos_token_id", file));
    }
    return new GenerationConfig(bosId, List.copyOf(eosIds));
  }

  /**
   * The parsed JSON of {@code file}.
   *
   * @throws IllegalArgumentException one line: the file and why it cannot be read or parsed
   */
  static JsonNode readJson(Path file) {
    String text = readText(file);
    try {
      JsonNode root = JSON.readTree(text);
      if (root == null || root.isMissingNode()) {
        throw new IllegalArgumentException(file + ": is empty, not JSON");
      }
      return root;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
      throw new IllegalArgumentException(file + ": is not valid JSON" + where + ": "
          + e.getOriginalMessage().replaceAll("\\s*\\R\\s*", " "));
    }
  }

  /**
   * The UTF-8 text of {@code file}.
   *
   * @throws IllegalArgumentException one line: the file and why it cannot be read
   */
  static String readText(Path file) {
    try {
      return Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(file + ": cannot be read: permission denied");
    } catch (MalformedInputException e) {
      throw new IllegalArgumentException(file + ": is not UTF-8 text");
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot be read: " + HfNativeLibrary.causes(e));
    }
  }

  private static Optional<String> tokenString(JsonNode root, String field, Path file) {
    JsonNode value = root.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return Optional.empty();
    }
    if (value.isTextual()) {
      return Optional.of(value.asText());
    }
    if (value.path("content").isTextual()) {
      return Optional.of(value.get("content").asText());
    }
    throw new IllegalArgumentException(file + ": " + field + " is neither a string nor an object with a content"
        + " string: " + value);
  }

  private static Optional<String> chatTemplate(JsonNode value, Path file) {
    if (value.isMissingNode() || value.isNull()) {
      return Optional.empty();
    }
    if (value.isTextual()) {
      return Optional.of(value.asText());
    }
    if (value.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode named : value) {
        names.add(named.path("name").asText());
        if (named.path("name").asText().equals("default") && named.path("template").isTextual()) {
          return Optional.of(named.get("template").asText());
        }
      }
      throw new IllegalArgumentException(file + ": chat_template lists the templates " + names
          + " but none named \"default\"; give one with --chat-template");
    }
    throw new IllegalArgumentException(file + ": chat_template is neither a string nor a list of {name, template}");
  }

  private static int tokenId(JsonNode node, String field, Path file) {
    if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 0) {
      throw new IllegalArgumentException(file + ": " + field + " is not a token id (a non-negative integer): " + node);
    }
    return node.asInt();
  }
}
