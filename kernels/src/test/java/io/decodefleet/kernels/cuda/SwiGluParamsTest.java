package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SwiGluParamsTest {

  @Test
  void codesFollowTheStridesAndTakeOneCtaARow() {
    SwiGluParams p = new SwiGluParams(0x1000, 0x2000, 0x2000 + 2 * 14336, 64, 14336, 28672, 14336);
    assertEquals(56, SwiGluParams.LAYOUT.size());
    assertEquals(40, SwiGluParams.LAYOUT.offsetOf("codes"));
    assertEquals(48, SwiGluParams.LAYOUT.offsetOf("scales"));
    assertEquals(new LaunchShape(7, 64, 1, 256, 0), p.launch(), "a vector a thread: 1792 vectors over 7 CTAs a row");
    SwiGluParams coded = p.withCodes(0x5000, 0x6000);
    assertEquals(new LaunchShape(1, 64, 1, 1024, 0), coded.launch(), "with codes one CTA of 1024 takes a whole row");
    ByteBuffer b = ByteBuffer.wrap(coded.pack()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x5000L, b.getLong(40));
    assertEquals(0x6000L, b.getLong(48));
    assertEquals(14336, b.getInt(28), "cols unchanged");
    assertEquals(0L, ByteBuffer.wrap(p.pack()).order(ByteOrder.LITTLE_ENDIAN).getLong(40), "no codes by default");
  }

  @Test
  void codesComeWithScalesAndA16MultipleWidth() {
    SwiGluParams p = new SwiGluParams(0x1000, 0x2000, 0x3000, 2, 24, 48, 24);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.withCodes(5, 6));
    assertEquals("cols must be a multiple of 16 but is 24", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SwiGluParams(1, 2, 3, 2, 16, 32, 16, 5, 0));
    assertTrue(e.getMessage().startsWith("codes and scales come together"), e.getMessage());
  }
}
