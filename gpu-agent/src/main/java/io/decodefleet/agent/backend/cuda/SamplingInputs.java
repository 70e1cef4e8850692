package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.cuda.SampleParams;
import java.nio.ByteBuffer;

/**
 * A step's sample rows' params as the SAMPLE kernel reads them: six (rows) 32-bit arrays back to
 * back, whose length is the step's sample-row count:
 * <pre>
 *   temperature (rows) float32
 *   topP        (rows) float32
 *   topK        (rows) int32
 *   seedLo      (rows) uint32, the low 32 bits of the seed
 *   seedHi      (rows) uint32, the high 32 bits
 *   position    (rows) int32, the position the sampled token takes (the draw's counter)
 * </pre>
 * Written into pinned memory and copied into the workspace's sampling region right after the step's
 * other inputs; a launch over sample rows {@code [first, first + count)} points each array at its
 * row {@code first}. Greedy rows go in as they are: the kernel takes their arg-max.
 */
final class SamplingInputs {

  /** Arrays per row. */
  static final int FIELDS = 6;

  private final SamplingParams[] params; // (rows)
  private final int[] positions; // (rows)

  SamplingInputs(SamplingParams[] params, int[] positions) {
    if (params.length != positions.length) {
      throw new IllegalArgumentException(params.length + " sample rows' params but " + positions.length
          + " positions");
    }
    this.params = params;
    this.positions = positions;
  }

  /** Bytes of the layout for up to {@code maxRows} sample rows: what the workspace holds. */
  static long capacityBytes(int maxRows) {
    return 4L * FIELDS * maxRows;
  }

  int rows() {
    return params.length;
  }

  long bytes() {
    return capacityBytes(rows());
  }

  /** Byte offset of array {@code field}'s entry for sample row {@code row}. */
  long offset(int field, int row) {
    return 4L * ((long) field * rows() + row);
  }

  /** Writes the layout at byte 0 of {@code out} (little-endian, absolute); returns the bytes to copy. */
  long write(ByteBuffer out) {
    if (out.capacity() < bytes()) {
      throw new IllegalArgumentException("sampling inputs of " + rows() + " rows need " + bytes() + " B, the"
          + " staging buffer holds " + out.capacity());
    }
    for (int i = 0; i < rows(); i++) {
      SamplingParams p = params[i];
      out.putFloat((int) offset(0, i), p.temperature());
      out.putFloat((int) offset(1, i), p.topP());
      out.putInt((int) offset(2, i), p.topK());
      out.putInt((int) offset(3, i), (int) p.seed());
      out.putInt((int) offset(4, i), (int) (p.seed() >>> 32));
      out.putInt((int) offset(5, i), positions[i]);
    }
    return bytes();
  }

  /**
   * SAMPLE over sample rows {@code [first, first + count)}.
   *
   * @param base device address of this layout (the workspace's sampling region)
   * @param out (count) int32 tokens
   * @param logits (count, vocab) bf16 logits of those rows
   */
  SampleParams kernelParams(long base, long out, long logits, int first, int count, int vocab) {
    if (first < 0 || count < 0 || first + count > rows()) {
      throw new IllegalArgumentException("sample rows [" + first + ", " + (first + count) + ") of " + rows());
    }
    return new SampleParams(out, logits, base + offset(0, first), base + offset(1, first), base + offset(2, first),
        base + offset(3, first), base + offset(4, first), base + offset(5, first), count, vocab, vocab);
  }
}
