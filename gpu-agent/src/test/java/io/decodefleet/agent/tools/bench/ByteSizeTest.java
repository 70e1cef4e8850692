package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

  @Test
  void parsesBinaryMultiplesAndPlainBytes() {
    assertEquals(4096, ByteSize.parse("4K"));
    assertEquals(4L << 20, ByteSize.parse("4m"));
    assertEquals(256L << 20, ByteSize.parse("256MiB"));
    assertEquals(1L << 30, ByteSize.parse(" 1GB "));
    assertEquals(1536, ByteSize.parse("1536"));
  }

  @Test
  void refusesWhatNoRankCouldMoveAsWholeElements() {
    assertEquals("size '6' must be a multiple of 4 bytes",
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("6")).getMessage());
    assertEquals("size '0K' must be positive",
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("0K")).getMessage());
    assertEquals("size 'four' is not a number of bytes (e.g. 4096, 4K, 4M, 1G)",
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("four")).getMessage());
    assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("-4K"));
    assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("99999999999G"));
  }

  @Test
  void formatsTheLargestWholeUnit() {
    assertEquals("4K", ByteSize.format(4096));
    assertEquals("256M", ByteSize.format(256L << 20));
    assertEquals("1G", ByteSize.format(1L << 30));
    assertEquals("1536K", ByteSize.format(1536L << 10));
    assertEquals("100", ByteSize.format(100));
  }
}
