package io.decodefleet.kernels.cuda;

import java.util.Arrays;

/**
 * An encoded CUDA tensor map ({@code CUtensorMap}): the 128 opaque bytes the driver's {@code
 * cuTensorMapEncodeTiled} writes and the copy engine (TMA) reads. Kernels take it by value inside
 * their parameter struct, 64-byte aligned ({@code struct TensorMap} in wgmma_gemm.cu). What the
 * bytes describe is a {@link TensorMapSpec}; only the driver turns one into the other.
 */
public final class TensorMap {

  /** sizeof(CUtensorMap). */
  public static final int BYTES = 128;

  private final byte[] bytes;

  public TensorMap(byte[] bytes) {
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("a tensor map is " + BYTES + " bytes, not " + bytes.length);
    }
    this.bytes = bytes.clone();
  }

  /** A copy of the encoded bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorMap t && Arrays.equals(bytes, t.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "TensorMap[" + BYTES + " bytes]";
  }
}
