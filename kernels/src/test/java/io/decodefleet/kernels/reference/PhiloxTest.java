package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Philox4x32-10 against Random123's known-answer vectors (kat_vectors: philox4x32_10). */
class PhiloxTest {

  private static void assertKat(int[] counter, int[] key, int[] expected) {
    int[] got = Philox.philox4x32(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
    assertArrayEquals(expected, got, () -> String.format("got %08x %08x %08x %08x", got[0], got[1], got[2], got[3]));
    assertEquals(expected[0], Philox.first(counter[0], counter[1], counter[2], counter[3], key[0], key[1]));
  }

  @Test
  void zeroCounterAndKey() {
    assertKat(new int[] {0, 0, 0, 0}, new int[] {0, 0},
        new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  }

  @Test
  void allOnesCounterAndKey() {
    assertKat(new int[] {-1, -1, -1, -1}, new int[] {-1, -1},
        new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  }

  @Test
  void digitsOfPiCounterAndKey() {
    assertKat(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, new int[] {0xa4093822, 0x299f31d0},
        new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
  }
}
