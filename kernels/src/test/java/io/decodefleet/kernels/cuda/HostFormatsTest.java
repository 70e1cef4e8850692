package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.reference.Rope;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** bf16 rounding, the RoPE table, KV packing and struct packing: the host halves of the kernels. */
class HostFormatsTest {

  @Test
  void bf16RoundsToNearestEvenAndKeepsSpecials() {
    assertEquals(1.0f, Bf16.round(1.0f));
    // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
    assertEquals(1.0f, Bf16.round(1.0f + 0x1p-8f));
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
    assertEquals(1.0f + 0x1p-6f, Bf16.round(1.0f + 3 * 0x1p-8f));
    assertTrue(Float.isNaN(Bf16.round(Float.NaN)));
    assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY));
    assertEquals((short) 0xbf80, Bf16.fromFloat(-1.0f));
    Random rnd = new Random(1);
    for (int i = 0; i < 10000; i++) {
      float f = (float) rnd.nextGaussian() * 100f;
      assertTrue(Math.abs(Bf16.round(f) - f) <= Math.abs(f) * 0x1p-8f, "error above half an ulp");
    }
  }

  @Test
  void ropeTableRotationMatchesTheReference() {
    int heads = 3, headDim = 64, n = 5;
    double theta = 500000.0;
    int[] positions = {0, 1, 17, 4000, 131071};
    float[] table = RopeTable.cosSin(131072, headDim, theta);
    Random rnd = new Random(5);
    float[] x = new float[n * heads * headDim];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] expected = x.clone();
    Rope.apply(expected, n, heads, headDim, positions, theta);
    int half = headDim / 2;
    for (int t = 0; t < n; t++) {
      int row = positions[t] * headDim;
      for (int h = 0; h < heads; h++) {
        int lo = (t * heads + h) * headDim;
        for (int i = 0; i < half; i++) {
          float a = x[lo + i], b = x[lo + half + i];
          float c = table[row + i], s = table[row + half + i];
          assertEquals(expected[lo + i], a * c - b * s, 1e-5, "x' at t=" + t + " i=" + i);
          assertEquals(expected[lo + half + i], a * s + b * c, 1e-5, "y' at t=" + t + " i=" + i);
        }
      }
    }
  }

  @Test
  void kvPackGathersPagesInTableOrderAndUnpackRestoresThem() {
    int pageElems = 16, blocks = 6;
    float[] k = new float[blocks * pageElems];
    float[] v = new float[blocks * pageElems];
    for (int i = 0; i < k.length; i++) {
      k[i] = i;
      v[i] = -i;
    }
    int[] pages = {4, 0, 2};
    float[] packed = new float[2 * 3 * pageElems];
    PagedKvTransfer.pack(k, v, pages, 3, pageElems, packed);
    assertEquals(4 * pageElems, packed[0]);
    assertEquals(-(4 * pageElems + 5), packed[3 * pageElems + 5]);
    assertEquals(2 * pageElems + 15, packed[3 * pageElems - 1]);
    float[] k2 = new float[k.length];
    float[] v2 = new float[v.length];
    PagedKvTransfer.unpack(packed, pages, 3, pageElems, k2, v2);
    for (int p : pages) {
      for (int e = 0; e < pageElems; e++) {
        assertEquals(k[p * pageElems + e], k2[p * pageElems + e]);
        assertEquals(v[p * pageElems + e], v2[p * pageElems + e]);
      }
    }
    assertEquals(0f, k2[pageElems], "page 1 is not the sequence's and stays untouched");
    assertThrows(IllegalArgumentException.class,
        () -> PagedKvTransfer.pack(k, v, new int[] {6}, 1, pageElems, packed));
  }

  @Test
  void structPackingPutsEachFieldAtItsOffsetLittleEndian() {
    RmsNormParams p = new RmsNormParams(0x1122334455667788L, 0, 3, 4, 17, 4096, 1e-5f);
    byte[] bytes = p.pack();
    assertEquals(64, bytes.length);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x1122334455667788L, buf.getLong(RmsNormParams.LAYOUT.offsetOf("out")));
    assertEquals((byte) 0x88, bytes[0]);
    assertEquals(0L, buf.getLong(RmsNormParams.LAYOUT.offsetOf("residual")));
    assertEquals(17, buf.getInt(32));
    assertEquals(4096, buf.getInt(36));
    assertEquals(1e-5f, buf.getFloat(40));
    assertArrayEquals(new byte[20], java.util.Arrays.copyOfRange(bytes, 44, 64), "xFloat 0, no codes or scales");
    ByteBuffer coded = ByteBuffer.wrap(p.withCodes(0x5000, 0x6000).pack()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x5000L, coded.getLong(48));
    assertEquals(0x6000L, coded.getLong(56));
    assertEquals(4096, coded.getInt(36), "the norm's own fields unchanged");
  }

  @Test
  void codesComeWithScalesAndA16MultipleHidden() {
    RmsNormParams p = new RmsNormParams(1, 0, 3, 4, 2, 4104, 1e-5f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.withCodes(5, 6));
    assertEquals("hidden must be a multiple of 16 but is 4104", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new RmsNormParams(1, 0, 3, 4, 2, 4096, 1e-5f, 0, 5, 0));
    assertTrue(e.getMessage().startsWith("codes and scales come together"), e.getMessage());
  }

  @Test
  void paramsNameTheOffendingField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RmsNormParams(1, 0, 3, 4, 1, 4100, 1e-5f));
    assertEquals("hidden must be a multiple of 8 but is 4100", e.getMessage());
  }

  @Test
  void fatbinPresenceMatchesTheResourceAndItsBytesAreAFatbin() {
    if (Fatbin.isPresent()) {
      byte[] b = Fatbin.bytes();
      int magic = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
      assertEquals(0xBA55ED50, magic, "fatbin header magic");
      assertEquals("", Fatbin.absenceReason());
    } else {
      assertThrows(IllegalStateException.class, Fatbin::bytes);
      assertTrue(Fatbin.absenceReason().contains("CPU-only"));
    }
  }
}
