package io.decodefleet.agent.engine.checkpoint;

import io.decodefleet.kernels.reference.Fp8E4m3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * One checked tensor's bytes, mapped read-only from its file (never copied whole into the heap):
 * elements read as float32, each FP8 one times its scale. The mapping is cut into windows of at
 * most {@link #WINDOW_BYTES} because one MappedByteBuffer spans at most 2 GiB; a large embedding
 * is more than that.
 */
public final class MappedTensor {

  /** Bytes one mapping window spans (1 GiB, a whole number of elements of every dtype). */
  static final long WINDOW_BYTES = 1L << 30;

  private final TensorEntry entry;
  private final MappedByteBuffer[] windows;
  private final int elementBytes;
  private final long cols; // elements per row (the last dimension; 1 for a vector)
  private final float[] rowScales; // FP8: (1) per tensor or (rows) per channel; null otherwise

  private MappedTensor(TensorEntry entry, MappedByteBuffer[] windows, float[] rowScales) {
    this.entry = entry;
    this.windows = windows;
    this.elementBytes = entry.dtype().bytes();
    this.cols = entry.rank() == 0 ? 1 : Math.max(1, entry.dim(entry.rank() - 1));
    this.rowScales = rowScales;
  }

  /** Maps {@code t}'s weight (and reads its FP8 scale). */
  public static MappedTensor map(CheckedCheckpoint.Tensor t) {
    float[] scales = null;
    if (t.fp8()) {
      MappedTensor s = map(t.scale(), null);
      scales = new float[Math.toIntExact(t.scale().elements())];
      for (int i = 0; i < scales.length; i++) {
        scales[i] = s.get(i);
        if (!(scales[i] > 0) || !Float.isFinite(scales[i])) {
          throw CheckpointException.tensor(t.scale().file(), t.scale().name(), "element " + i + " is " + scales[i]
              + ": an FP8 scale must be finite and > 0");
        }
      }
    }
    return map(t.weight(), scales);
  }

  /** Maps a float tensor (bf16, fp16 or fp32), e.g. a scale. */
  public static MappedTensor map(TensorEntry entry) {
    if (!entry.dtype().isFloat()) throw new IllegalArgumentException(entry + " is not a float tensor");
    return map(entry, null);
  }

  private static MappedTensor map(TensorEntry entry, float[] scales) {
    long length = entry.byteLength();
    MappedByteBuffer[] windows = new MappedByteBuffer[(int) Math.max(1, (length + WINDOW_BYTES - 1) / WINDOW_BYTES)];
    try (FileChannel ch = FileChannel.open(entry.file(), StandardOpenOption.READ)) {
      if (ch.size() < entry.dataOffset() + length) {
        throw CheckpointException.tensor(entry.file(), entry.name(), "the file shrank to " + ch.size()
            + " bytes since its header was checked");
      }
      for (int w = 0; w < windows.length; w++) {
        long from = w * WINDOW_BYTES;
        long span = Math.min(WINDOW_BYTES, length - from);
        windows[w] = ch.map(FileChannel.MapMode.READ_ONLY, entry.dataOffset() + from, Math.max(0, span));
        windows[w].order(ByteOrder.LITTLE_ENDIAN);
      }
    } catch (IOException e) {
      throw CheckpointException.tensor(entry.file(), entry.name(), "cannot map: " + e.getMessage());
    }
    return new MappedTensor(entry, windows, scales);
  }

  public TensorEntry entry() {
    return entry;
  }

  /** An FP8 tensor's scale of row {@code row} (its one scale when per tensor). */
  public float rowScale(long row) {
    if (rowScales == null) throw new IllegalStateException(entry + " is not an FP8 tensor");
    return rowScales[rowScales.length == 1 ? 0 : Math.toIntExact(row)];
  }

  /** Element {@code index} (row-major) as float32; an FP8 element times its row's scale. */
  public float get(long index) {
    long at = index * elementBytes;
    ByteBuffer w = windows[(int) (at / WINDOW_BYTES)];
    int i = (int) (at % WINDOW_BYTES);
    return switch (entry.dtype()) {
      case BF16 -> Float.intBitsToFloat((w.getShort(i) & 0xffff) << 16);
      case F16 -> halfToFloat(w.getShort(i));
      case F32 -> w.getFloat(i);
      case F8_E4M3 -> Fp8E4m3.decode(w.get(i)) * rowScales[rowScales.length == 1 ? 0 : (int) (index / cols)];
      default -> throw new IllegalStateException(entry + " is not a float tensor");
    };
  }

  /** IEEE binary16 to float32 (exact; Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf, NaN
    if (exp == 0) return Float.intBitsToFloat(sign | Float.floatToRawIntBits(mant * 0x1p-24f)); // subnormal, zero
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /**
   * Copies the raw bytes of elements {@code [first, first + count)} into {@code out} at its position,
   * which advances: what a device upload stages.
   */
  public void copyBytes(long first, long count, ByteBuffer out) {
    long at = first * elementBytes;
    long end = (first + count) * elementBytes;
    while (at < end) {
      ByteBuffer w = windows[(int) (at / WINDOW_BYTES)].duplicate();
      int from = (int) (at % WINDOW_BYTES);
      int n = (int) Math.min(end - at, w.capacity() - from);
      out.put(w.position(from).limit(from + n));
      at += n;
    }
  }
}
