package io.decodefleet.coordinator.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * The built-in tokenizer, so that every model preset accepts text, whatever its weights: a model
 * without a {@code tokenizer.json} (random weights, a preset) uses this one.
 *
 * <p>The rule:
 * <ul>
 *   <li>Encoding: the text's UTF-8 bytes, byte {@code b} (0..255) becoming id {@code b}. Text is always
 *       bytes: the strings of the special tokens inside a text are encoded byte by byte, not as the
 *       special ids.</li>
 *   <li>Two special tokens: {@value #BEGIN_OF_TEXT} = {@value #BOS_ID} (BOS, put in front when
 *       {@code addSpecialTokens} is true) and {@value #END_OF_TEXT} = {@value #EOS_ID} (EOS).</li>
 *   <li>It needs a model vocabulary of at least {@value #VOCAB_SIZE} ids (the smallest preset has 1024).</li>
 *   <li>Decoding: consecutive ids 0..255 are bytes, decoded as UTF-8, an invalid or incomplete sequence
 *       becoming U+FFFD as Java's decoder does; {@value #BOS_ID} and {@value #EOS_ID} decode as their
 *       strings, or as nothing when special tokens are skipped; any other id (models with random weights
 *       produce them) decodes as the literal text {@code <|id:N|>}, whether or not special tokens are
 *       skipped. No id is ever mapped to a byte it is not.</li>
 * </ul>
 */
public final class ByteTokenizer implements Tokenizer {

  public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
  public static final String END_OF_TEXT = "<|end_of_text|>";
  public static final int BOS_ID = 256;
  public static final int EOS_ID = 257;
  /** Ids it can produce: 256 bytes and two special tokens. */
  public static final int VOCAB_SIZE = 258;

  @Override
  public int[] encode(String text, boolean addSpecialTokens) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int offset = addSpecialTokens ? 1 : 0;
    int[] ids = new int[bytes.length + offset];
    if (addSpecialTokens) {
      ids[0] = BOS_ID;
    }
    for (int i = 0; i < bytes.length; i++) {
      ids[i + offset] = bytes[i] & 0xff;
    }
    return ids;
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder text = new StringBuilder(ids.length);
    ByteArrayOutputStream run = new ByteArrayOutputStream();
    for (int id : ids) {
      if (id >= 0 && id < 256) {
        run.write(id);
        continue;
      }
      // A byte run ends at any other id: its bytes are decoded on their own, as UTF-8.
      text.append(run.toString(StandardCharsets.UTF_8));
      run.reset();
      if (id == BOS_ID || id == EOS_ID) {
        if (!skipSpecialTokens) {
          text.append(id == BOS_ID ? BEGIN_OF_TEXT : END_OF_TEXT);
        }
      } else {
        text.append(Tokenizer.unknownIdText(id));
      }
    }
    return text.append(run.toString(StandardCharsets.UTF_8)).toString();
  }

  @Override
  public OptionalInt bosTokenId() {
    return OptionalInt.of(BOS_ID);
  }

  @Override
  public int[] eosTokenIds() {
    return new int[] {EOS_ID};
  }

  @Override
  public int vocabSize() {
    return VOCAB_SIZE;
  }

  @Override
  public String name() {
    return "byte-level";
  }

  /** {@code <0xNN>} for a byte (as SentencePiece names its byte tokens), the string of a special token. */
  @Override
  public String token(int id) {
    if (id >= 0 && id < 256) {
      return String.format("<0x%02X>", id);
    }
    if (id == BOS_ID) {
      return BEGIN_OF_TEXT;
    }
    if (id == EOS_ID) {
      return END_OF_TEXT;
    }
    throw new IllegalArgumentException("the byte-level tokenizer has no token " + id + " (its ids are 0.."
        + (VOCAB_SIZE - 1) + ")");
  }
}
