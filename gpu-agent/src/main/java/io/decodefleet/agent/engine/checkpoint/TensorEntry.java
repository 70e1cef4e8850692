package io.decodefleet.agent.engine.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file as its header describes it: checked there to lie inside the file
 * and to hold exactly {@code product(shape) * dtype.bytes()} bytes.
 *
 * @param dataOffset where its first byte lies in the file (the header's data_offsets[0] plus the
 *     8-byte length and the header)
 */
public record TensorEntry(Path file, String name, TensorDtype dtype, long[] shape, long dataOffset, long byteLength) {

  public TensorEntry {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** Extent of dimension {@code d}. */
  public long dim(int d) {
    return shape[d];
  }

  public long elements() {
    return byteLength / dtype.bytes();
  }

  public boolean hasShape(long... expected) {
    return Arrays.equals(shape, expected);
  }

  /** e.g. {@code BF16 [128, 64]}. */
  public String describe() {
    return dtype + " " + Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorEntry t && t.file.equals(file) && t.name.equals(name) && t.dtype == dtype
        && Arrays.equals(t.shape, shape) && t.dataOffset == dataOffset && t.byteLength == byteLength;
  }

  @Override
  public int hashCode() {
    return 31 * name.hashCode() + Arrays.hashCode(shape) + Long.hashCode(dataOffset);
  }

  @Override
  public String toString() {
    return name + " " + describe() + " @" + dataOffset + " in " + file;
  }
}
