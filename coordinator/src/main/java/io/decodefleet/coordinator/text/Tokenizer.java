package io.decodefleet.coordinator.text;

import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Text to token ids and back, for the OpenAI-compatible API: prompts are encoded once when a request
 * arrives, generated ids are decoded while they stream ({@link IncrementalDetokenizer}). An id is a
 * row of the model's embedding table, so every id a tokenizer produces must be below the model's
 * vocabulary size; {@link #load} checks that once, when the model's tokenizer is chosen.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

  /**
   * The ids of {@code text}.
   *
   * @param addSpecialTokens whether to add what the tokenizer adds around a sequence (typically the
   *     BOS id in front); false for a prompt that a chat template has already framed
   */
  int[] encode(String text, boolean addSpecialTokens);

  /**
   * The text of {@code ids}. Ids the tokenizer cannot map to text (a model with random weights
   * produces any id below its vocabulary size) decode as the literal text {@code <|id:N|>}, never as
   * nothing and never as some other token.
   *
   * @param skipSpecialTokens whether special tokens (BOS, EOS, ...) are left out of the text
   */
  String decode(int[] ids, boolean skipSpecialTokens);

  /** The id put in front of a sequence when {@code addSpecialTokens} is true, if the tokenizer has one. */
  OptionalInt bosTokenId();

  /** Ids that end generation; empty when the tokenizer's files name none (generation then ends on length). */
  int[] eosTokenIds();

  /** How many ids the tokenizer can produce: one more than its largest id. */
  int vocabSize();

  /** How logs and errors name the tokenizer: {@code byte-level}, or the path of its tokenizer.json. */
  String name();

  /**
   * The vocabulary's own string for {@code id} (for a byte-level BPE, in its byte-to-character
   * alphabet; for special tokens, their text, e.g. {@code <|begin_of_text|>}).
   *
   * @throws IllegalArgumentException when the tokenizer has no token {@code id}
   */
  String token(int id);

  /** The text of an id a tokenizer cannot map to text: {@code <|id:N|>}, the one rule for every tokenizer. */
  static String unknownIdText(int id) {
    return "<|id:" + id + "|>";
  }

  /**
   * The tokenizer of a model.
   *
   * @param tokenizerJsonOrNull a Hugging Face {@code tokenizer.json} (or the folder holding it), with
   *     its optional {@code tokenizer_config.json} and {@code generation_config.json} beside it; null
   *     for the built-in {@link ByteTokenizer}
   * @param modelVocabSize rows of the model's embedding table: every id the tokenizer produces must be
   *     below it
   * @throws IllegalArgumentException with one line naming the file and the cause: the file is missing,
   *     unreadable or invalid, the native tokenizer library cannot load here, or the tokenizer's ids
   *     do not fit the model's vocabulary
   */
  static Tokenizer load(Path tokenizerJsonOrNull, int modelVocabSize) {
    Tokenizer tokenizer = tokenizerJsonOrNull == null ? new ByteTokenizer() : HfTokenizer.load(tokenizerJsonOrNull);
    if (tokenizer.vocabSize() > modelVocabSize) {
      if (tokenizerJsonOrNull == null) {
        throw new IllegalArgumentException("the byte-level tokenizer needs a model vocabulary of at least "
            + ByteTokenizer.VOCAB_SIZE + " ids (256 bytes, " + ByteTokenizer.BEGIN_OF_TEXT + ", "
            + ByteTokenizer.END_OF_TEXT + "); the model has " + modelVocabSize);
      }
      throw new IllegalArgumentException("tokenizer " + tokenizer.name() + ": its ids go up to "
          + (tokenizer.vocabSize() - 1) + " but the model's vocabulary has " + modelVocabSize
          + " ids (0.." + (modelVocabSize - 1) + "): it is not this model's tokenizer");
    }
    return tokenizer;
  }
}
