package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.cuda.SampleParams;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The host half of device sampling: the per-row arrays SAMPLE reads, and where each launch points. */
class SamplingInputsTest {

  private static final SamplingParams[] PARAMS = {
    SamplingParams.GREEDY,
    new SamplingParams(0.8f, 0.95f, 50, 0x1234_5678_9abc_def0L, new int[0], 0),
    new SamplingParams(1.3f, 1f, 0, -2L, new int[] {7}, 3),
  };
  private static final int[] POSITIONS = {5, 17, 1 << 20};

  @Test
  void writesSixArraysOfTheStepsSampleRowsBackToBack() {
    SamplingInputs in = new SamplingInputs(PARAMS, POSITIONS);
    ByteBuffer out = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(6 * 3 * 4, in.write(out));
    for (int i = 0; i < 3; i++) {
      assertEquals(PARAMS[i].temperature(), out.getFloat(4 * i));
      assertEquals(PARAMS[i].topP(), out.getFloat(4 * (3 + i)));
      assertEquals(PARAMS[i].topK(), out.getInt(4 * (6 + i)));
      long seed = (out.getInt(4 * (9 + i)) & 0xffffffffL) | ((long) out.getInt(4 * (12 + i)) << 32);
      assertEquals(PARAMS[i].seed(), seed, "seed of row " + i + " from its two words");
      assertEquals(POSITIONS[i], out.getInt(4 * (15 + i)));
    }
  }

  @Test
  void aLaunchOverLaterRowsPointsEveryArrayAtItsFirstRow() {
    SamplingInputs in = new SamplingInputs(PARAMS, POSITIONS);
    long base = 0x7f00_0000_0000L;
    SampleParams p = in.kernelParams(base, 0x1000, 0x2000, 1, 2, 2048);
    assertEquals(base + 4, p.temperature());
    assertEquals(base + 4 * (3 + 1), p.topP());
    assertEquals(base + 4 * (6 + 1), p.topK());
    assertEquals(base + 4 * (9 + 1), p.seedLo());
    assertEquals(base + 4 * (12 + 1), p.seedHi());
    assertEquals(base + 4 * (15 + 1), p.position());
    assertEquals(2, p.rows());
    assertEquals(2048, p.vocab());
    assertEquals(2048, p.stride());
    assertThrows(IllegalArgumentException.class, () -> in.kernelParams(base, 0x1000, 0x2000, 2, 2, 2048));
  }

  @Test
  void refusesMismatchedArraysAndASmallStagingBuffer() {
    assertThrows(IllegalArgumentException.class, () -> new SamplingInputs(PARAMS, new int[2]));
    SamplingInputs in = new SamplingInputs(PARAMS, POSITIONS);
    assertThrows(IllegalArgumentException.class, () -> in.write(ByteBuffer.allocate(71)));
    assertEquals(6 * 4 * 8192L, SamplingInputs.capacityBytes(8192));
  }
}
