package io.decodefleet.coordinator.text;

import static io.decodefleet.coordinator.text.TinyBpeFiles.BOS;
import static io.decodefleet.coordinator.text.TinyBpeFiles.EOS;
import static io.decodefleet.coordinator.text.TinyBpeFiles.EOT;
import static io.decodefleet.coordinator.text.TinyBpeFiles.HELLO;
import static io.decodefleet.coordinator.text.TinyBpeFiles.SPACE_WORLD;
import static io.decodefleet.coordinator.text.TinyBpeFiles.VOCAB_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {

  @TempDir
  Path folder;

  private Tokenizer load() throws IOException {
    return Tokenizer.load(TinyBpeFiles.writeTokenizer(folder), 1024);
  }

  @Test
  void mergesMakeWholeWordsAndTextRoundTripsThroughTheBytes() throws IOException {
    Tokenizer tokenizer = load();

    assertArrayEquals(new int[] {HELLO, SPACE_WORLD}, tokenizer.encode("hello world", false));
    // a-acute (2 bytes), the euro sign (3), an emoji (4, a surrogate pair in Java), a newline
    String text = "hello caf\u00e9 costs 3\u20ac \uD83D\uDE00\nworld";
    int[] ids = tokenizer.encode(text, false);
    assertTrue(ids.length > 10, "bytes without merges stay single tokens: " + ids.length);
    assertEquals(text, tokenizer.decode(ids, false));
    assertEquals(VOCAB_SIZE, tokenizer.vocabSize());
    assertEquals(folder.resolve("tokenizer.json").toString(), tokenizer.name());
  }

  @Test
  void specialTokensComeFromThePostProcessorAndAreSkippedOnRequest() throws IOException {
    Tokenizer tokenizer = load();

    assertArrayEquals(new int[] {BOS, HELLO}, tokenizer.encode("hello", true));
    assertEquals("<s>hello world</s>", tokenizer.decode(new int[] {BOS, HELLO, SPACE_WORLD, EOS}, false));
    assertEquals("hello world", tokenizer.decode(new int[] {BOS, HELLO, SPACE_WORLD, EOS}, true));
    assertEquals("<|eot|>", tokenizer.token(EOT));
  }

  @Test
  void idsTheVocabularyDoesNotHoldDecodeAsLiteralText() throws IOException {
    Tokenizer tokenizer = load();

    assertEquals("hello<|id:900|> world", tokenizer.decode(new int[] {HELLO, 900, SPACE_WORLD}, true));
  }

  @Test
  void aLongPromptIsNeitherTruncatedNorPadded() throws IOException {
    Tokenizer tokenizer = load();
    String text = "hello world ".repeat(1000);

    int[] ids = tokenizer.encode(text, false);

    assertTrue(ids.length > 2000, "DJL truncates to 512 tokens unless told not to: " + ids.length);
    assertEquals(text, tokenizer.decode(ids, false));
  }

  @Test
  void bosAndEosComeFromTokenizerConfigThenGenerationConfig() throws IOException {
    TinyBpeFiles.write(folder, "tokenizer_config.json",
        "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\", \"special\": true}}");
    TinyBpeFiles.write(folder, "generation_config.json", "{\"bos_token_id\": 265, \"eos_token_id\": [266, 267]}");

    Tokenizer tokenizer = load();

    assertEquals(OptionalInt.of(BOS), tokenizer.bosTokenId());
    assertArrayEquals(new int[] {EOS, EOT}, tokenizer.eosTokenIds(), "tokenizer_config's first, no repeats");
  }

  @Test
  void withoutConfigFilesThereIsNoBosOrEos() throws IOException {
    Tokenizer tokenizer = load();

    assertEquals(OptionalInt.empty(), tokenizer.bosTokenId());
    assertArrayEquals(new int[0], tokenizer.eosTokenIds());
  }

  @Test
  void generationConfigAloneGivesASingleEosId() throws IOException {
    TinyBpeFiles.write(folder, "generation_config.json", "{\"eos_token_id\": 267}");

    assertArrayEquals(new int[] {EOT}, load().eosTokenIds());
  }

  @Test
  void aFolderIsReadAsTheTokenizerJsonInIt() throws IOException {
    TinyBpeFiles.writeTokenizer(folder);

    assertEquals(VOCAB_SIZE, Tokenizer.load(folder, 1024).vocabSize());
  }

  @Test
  void aMissingFileIsOneLineNamingIt() {
    Path missing = folder.resolve("nope/tokenizer.json");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(missing, 1024));

    assertOneLine(e.getMessage(), missing.toString(), "no such file");
  }

  @Test
  void malformedJsonIsOneLineWithTheFileAndThePlace() throws IOException {
    Path file = TinyBpeFiles.write(folder, "tokenizer.json", "{\n  \"model\": {\"vocab\": {\"a\": 0,}\n}");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file, 1024));

    assertOneLine(e.getMessage(), file.toString(), "is not valid JSON (line 2");
  }

  @Test
  void jsonThatIsNoTokenizerIsOneLine() throws IOException {
    Path file = TinyBpeFiles.write(folder, "tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file, 1024));

    assertOneLine(e.getMessage(), file.toString(), "no model.vocab");
  }

  @Test
  void aVocabularyLargerThanTheModelsIsRefused() throws IOException {
    Path file = TinyBpeFiles.writeTokenizer(folder);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file, 260));

    assertOneLine(e.getMessage(), file.toString(), "its ids go up to 267 but the model's vocabulary has 260");
  }

  @Test
  void aConfigTokenOutsideTheVocabularyIsRefused() throws IOException {
    Path config = TinyBpeFiles.write(folder, "tokenizer_config.json", "{\"eos_token\": \"<|im_end|>\"}");
    Path file = TinyBpeFiles.writeTokenizer(folder);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file, 1024));

    assertOneLine(e.getMessage(), config.toString(), "eos_token \"<|im_end|>\" is not in the vocabulary");
  }

  @Test
  void aMalformedConfigFileBesideIsNamed() throws IOException {
    Path config = TinyBpeFiles.write(folder, "generation_config.json", "{\"eos_token_id\": \"two\"}");
    Path file = TinyBpeFiles.writeTokenizer(folder);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file, 1024));

    assertOneLine(e.getMessage(), config.toString(), "eos_token_id is not a token id");
  }

  @Test
  void theNativeLibraryIsCopiedIntoTheDecodeFleetCache() throws IOException {
    assumeTrue(System.getenv("DJL_CACHE_DIR") == null && System.getenv("ENGINE_CACHE_DIR") == null,
        "DJL's own variables, when set, choose the folder");
    load();

    Path expected = HfNativeLibrary.cacheDirectory(System.getenv(HfNativeLibrary.CACHE_ENV),
        System.getProperty("user.home"));
    assertEquals(expected.resolve("tokenizers"), HfNativeLibrary.libraryCache());
    try (Stream<Path> files = Files.walk(expected)) {
      assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("libtokenizers")),
          "no libtokenizers under " + expected);
    }
  }

  @Test
  void aLibraryThatCannotLoadIsOneLineWithThePlatformAndEveryCause() {
    Throwable e = new IllegalStateException("Failed to load Huggingface native library.",
        new UnsatisfiedLinkError("libtokenizers.so: libstdc++.so.6: cannot open shared object file\n(no such file)"));

    String line = HfNativeLibrary.failure(e);

    assertOneLine(line, System.getProperty("os.name") + "/" + System.getProperty("os.arch"),
        "Failed to load Huggingface native library.: libtokenizers.so: libstdc++.so.6: cannot open shared object"
            + " file (no such file)", HfNativeLibrary.CACHE_ENV);
  }

  @Test
  void theCacheFolderIsUnderDecodeFleetsCacheFolder() {
    assertEquals(Path.of("/data/cache/djl"), HfNativeLibrary.cacheDirectory("/data/cache", "/home/u"));
    assertEquals(Path.of("/home/u/.cache/decodefleet/djl"), HfNativeLibrary.cacheDirectory(null, "/home/u"));
    assertEquals(Path.of("/home/u/.cache/decodefleet/djl"), HfNativeLibrary.cacheDirectory(" ", "/home/u"));
    assertEquals(Path.of("/home/u/.cache/decodefleet/djl"), HfNativeLibrary.cacheDirectory("off", "/home/u"),
        "off turns off caches of decisions; the library still needs a folder");
  }

  static void assertOneLine(String message, String... parts) {
    assertFalse(message.contains("\n"), "more than one line: " + message);
    for (String part : parts) {
      assertTrue(message.contains(part), "\"" + part + "\" is not in: " + message);
    }
  }
}
