package io.decodefleet.coordinator.text;

import static io.decodefleet.coordinator.text.HfTokenizerTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {

  private final ByteTokenizer tokenizer = new ByteTokenizer();

  @Test
  void textIsItsUtf8BytesWithBosInFrontOnRequest() {
    // 'A', then the euro sign's three bytes E2 82 AC
    assertArrayEquals(new int[] {0x41, 0xE2, 0x82, 0xAC}, tokenizer.encode("A\u20ac", false));
    assertArrayEquals(new int[] {256, 0x41}, tokenizer.encode("A", true));
    assertArrayEquals(new int[] {256}, tokenizer.encode("", true));
  }

  @Test
  void theStringsOfSpecialTokensInATextAreBytes() {
    assertEquals(ByteTokenizer.BEGIN_OF_TEXT.length(), tokenizer.encode(ByteTokenizer.BEGIN_OF_TEXT, false).length);
  }

  @Test
  void anyTextRoundTrips() {
    SplittableRandom random = new SplittableRandom(7);
    for (int n = 0; n < 200; n++) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        text.appendCodePoint(switch (random.nextInt(4)) {
          case 0 -> random.nextInt(0x20, 0x7f);
          case 1 -> random.nextInt(0xa0, 0x800);
          case 2 -> random.nextInt(0x800, 0xd800);
          default -> random.nextInt(0x10000, 0x10ffff);
        });
      }
      assertEquals(text.toString(), tokenizer.decode(tokenizer.encode(text.toString(), true), true));
    }
  }

  @Test
  void specialIdsDecodeAsTheirStringsUnlessSkipped() {
    int[] ids = {256, 0x68, 0x69, 257};

    assertEquals("<|begin_of_text|>hi<|end_of_text|>", tokenizer.decode(ids, false));
    assertEquals("hi", tokenizer.decode(ids, true));
  }

  @Test
  void otherIdsDecodeAsLiteralTextEvenWhenSpecialTokensAreSkipped() {
    int[] ids = {0x68, 300, 0x69, 1023, -1};

    assertEquals("h<|id:300|>i<|id:1023|><|id:-1|>", tokenizer.decode(ids, true));
  }

  @Test
  void invalidOrIncompleteUtf8BecomesTheReplacementCharacter() {
    assertEquals("\uFFFDA", tokenizer.decode(new int[] {0xE2, 0x41}, false));
    assertEquals("\uFFFD", tokenizer.decode(new int[] {0xE2, 0x82}, false));
    // a byte run ends at a special id: the euro sign split by it does not join up
    assertEquals("\uFFFD<|end_of_text|>\uFFFD", tokenizer.decode(new int[] {0xE2, 257, 0x82}, false));
  }

  @Test
  void bosEosAndVocabulary() {
    assertEquals(OptionalInt.of(256), tokenizer.bosTokenId());
    assertArrayEquals(new int[] {257}, tokenizer.eosTokenIds());
    assertEquals(258, tokenizer.vocabSize());
    assertEquals("byte-level", tokenizer.name());
    assertEquals("<0x0A>", tokenizer.token(10));
    assertEquals("<|end_of_text|>", tokenizer.token(257));
    assertThrows(IllegalArgumentException.class, () -> tokenizer.token(258));
  }

  @Test
  void loadWithoutAFileGivesTheByteTokenizerForAVocabularyOf258OrMore() {
    assertInstanceOf(ByteTokenizer.class, Tokenizer.load(null, 1024));
    assertInstanceOf(ByteTokenizer.class, Tokenizer.load(null, 258));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(null, 257));

    assertOneLine(e.getMessage(), "byte-level", "at least 258", "the model has 257");
  }
}
