package io.decodefleet.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncrementalDetokenizerTest {

  private final ByteTokenizer bytes = new ByteTokenizer();

  @Test
  void aCharacterSplitAcrossByteTokensIsEmittedOnlyWhenWhole() {
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, bytes.encode("Price: ", true), true);

    // the euro sign is E2 82 AC
    assertEquals("", detokenizer.add(0xE2));
    assertEquals("", detokenizer.add(0x82));
    assertEquals("\u20ac", detokenizer.add(0xAC));
    assertEquals("5", detokenizer.add(0x35));
    assertEquals("", detokenizer.flush());
    assertEquals("\u20ac5", detokenizer.text());
  }

  @Test
  void textBeforeAnIncompleteCharacterIsNotHeldBack() {
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, new int[0], true);

    // "ab", then the first two bytes of an emoji (F0 9F 98 80), in one step
    assertEquals("ab", detokenizer.add(0x61, 0x62, 0xF0, 0x9F));
    assertEquals("", detokenizer.add(0x98));
    assertEquals("\uD83D\uDE00", detokenizer.add(0x80));
  }

  @Test
  void aStrayByteIsReleasedAsReplacementOnceTheTextMovesOn() {
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, new int[0], true);

    assertEquals("", detokenizer.add(0xFF));
    assertEquals("\uFFFDb", detokenizer.add(0x62));
  }

  @Test
  void flushReleasesACharacterThatNeverCompleted() {
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, new int[0], true);

    assertEquals("x", detokenizer.add(0x78, 0xE2, 0x82));
    assertEquals("\uFFFD", detokenizer.flush());
    assertEquals("x\uFFFD", detokenizer.text());
  }

  @Test
  void skippedSpecialTokensAddNothingAndUnknownIdsAddTheirLiteral() {
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, new int[0], true);

    assertEquals("", detokenizer.add(ByteTokenizer.EOS_ID));
    assertEquals("<|id:999|>", detokenizer.add(999));
  }

  @Test
  void theDeltasAddUpToTheDecodeOfAllIdsForAnyStream() {
    SplittableRandom random = new SplittableRandom(11);
    for (int n = 0; n < 300; n++) {
      List<Integer> ids = new ArrayList<>();
      String text = "Gr\u00fc\u00dfe \u20ac \uD83D\uDE00 \u4e16\u754c";
      for (int id : bytes.encode(text, false)) {
        ids.add(id);
      }
      // stray bytes, special and unknown ids in random places
      for (int k = 0; k < 3; k++) {
        int[] noise = {0x80 + random.nextInt(0x80), ByteTokenizer.EOS_ID, 258 + random.nextInt(700)};
        ids.add(random.nextInt(ids.size() + 1), noise[random.nextInt(noise.length)]);
      }
      int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
      IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bytes, bytes.encode("prompt", true), true);
      StringBuilder streamed = new StringBuilder();
      for (int i = 0; i < all.length; ) {
        int step = 1 + random.nextInt(3);
        int[] chunk = java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + step));
        streamed.append(detokenizer.add(chunk));
        i += chunk.length;
      }
      streamed.append(detokenizer.flush());

      assertEquals(bytes.decode(all, true), streamed.toString(), "stream " + n + ": " + ids);
    }
  }

  @Test
  void byteLevelBpeKeepsTheSpaceBeforeEachWordAndSplitsNoCharacter(@TempDir Path folder) throws IOException {
    Tokenizer bpe = Tokenizer.load(TinyBpeFiles.writeTokenizer(folder), 1024);
    String reply = " world caf\u00e9 \u20ac";
    int[] generated = bpe.encode(reply, false);
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(bpe, bpe.encode("hello", true), true);

    StringBuilder streamed = new StringBuilder();
    for (int id : generated) {
      String delta = detokenizer.add(id);
      assertFalse(delta.contains("\uFFFD"), "a broken character was emitted: " + delta);
      streamed.append(delta);
    }
    streamed.append(detokenizer.add(TinyBpeFiles.EOS)).append(detokenizer.flush());

    assertEquals(reply, streamed.toString());
  }
}
