package io.decodefleet.coordinator.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small but real Hugging Face tokenizer, written into a folder: a byte-level BPE as GPT-2 and Llama 3
 * have (ByteLevel pre-tokenizer and decoder), whose 256 byte tokens have ids 0..255 (id b is byte b),
 * a few merges spelling "hello" and " world", and three special added tokens; a template post-processor
 * puts {@code <s>} in front when special tokens are asked for.
 */
final class TinyBpeFiles {

  static final int HELLO = 259;
  static final int SPACE_WORLD = 264;
  static final int BOS = 265;
  static final int EOS = 266;
  static final int EOT = 267;
  /** one more than the largest id */
  static final int VOCAB_SIZE = 268;

  private static final ObjectMapper JSON = new ObjectMapper();
  /** merges in rank order; each one's result gets the next id from 256 on */
  private static final String[][] MERGES = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"},
      {"\u0120", "w"}, {"o", "r"}, {"\u0120w", "or"}, {"l", "d"}, {"\u0120wor", "ld"}};

  private TinyBpeFiles() {}

  /** Writes tokenizer.json into {@code folder} and returns its path. */
  static Path writeTokenizer(Path folder) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    addedToken(added, BOS, "<s>");
    addedToken(added, EOS, "</s>");
    addedToken(added, EOT, "<|eot|>");
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel());
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "TemplateProcessing");
    post.set("single", JSON.readTree("[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
        + " {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]"));
    post.set("pair", JSON.readTree("[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
        + " {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}]"));
    post.set("special_tokens", JSON.readTree("{\"<s>\": {\"id\": \"<s>\", \"ids\": [" + BOS + "], \"tokens\": [\"<s>\"]}}"));
    root.set("decoder", byteLevel());
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(byteChar(b)), b);
    }
    ArrayNode merges = model.putArray("merges");
    for (int i = 0; i < MERGES.length; i++) {
      vocab.put(MERGES[i][0] + MERGES[i][1], 256 + i);
      merges.add(MERGES[i][0] + " " + MERGES[i][1]);
    }
    Path file = folder.resolve("tokenizer.json");
    JSON.writeValue(file.toFile(), root);
    return file;
  }

  /** Writes {@code text} as {@code name} into {@code folder}. */
  static Path write(Path folder, String name, String text) throws IOException {
    return Files.writeString(folder.resolve(name), text);
  }

  /** The character GPT-2's byte-level alphabet uses for byte {@code b}. */
  static char byteChar(int b) {
    List<Integer> printable = new ArrayList<>();
    for (int c = '!'; c <= '~'; c++) printable.add(c);
    for (int c = 0xA1; c <= 0xAC; c++) printable.add(c);
    for (int c = 0xAE; c <= 0xFF; c++) printable.add(c);
    if (printable.contains(b)) {
      return (char) b;
    }
    int n = 0;
    for (int c = 0; c < b; c++) {
      if (!printable.contains(c)) n++;
    }
    return (char) (256 + n);
  }

  private static ObjectNode byteLevel() {
    ObjectNode node = JSON.createObjectNode();
    node.put("type", "ByteLevel");
    node.put("add_prefix_space", false);
    node.put("trim_offsets", true);
    node.put("use_regex", true);
    return node;
  }

  private static void addedToken(ArrayNode added, int id, String content) {
    ObjectNode token = added.addObject();
    token.put("id", id);
    token.put("content", content);
    token.put("single_word", false);
    token.put("lstrip", false);
    token.put("rstrip", false);
    token.put("normalized", false);
    token.put("special", true);
  }
}
