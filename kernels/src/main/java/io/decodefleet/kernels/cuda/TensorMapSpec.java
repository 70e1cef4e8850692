package io.decodefleet.kernels.cuda;

/**
 * What one 2D tensor map describes, in the terms of {@code cuTensorMapEncodeTiled}: a row-major
 * bf16 (or, for FP8 weights, UINT8) matrix of {@code outer} rows of {@code inner} elements, {@code rowStrideBytes} apart,
 * copied into shared memory in boxes of {@code boxOuter} rows × {@code boxInner} elements, with the
 * 128-byte swizzle (wgmma's operand layout) or none (the box written densely, row after row),
 * reads past the edges filled with zeros.
 *
 * <p>The checks are the driver's own rules for this form (its documentation of
 * cuTensorMapEncodeTiled), so that a bad shape fails here with the parameter's name rather than
 * as CUDA_ERROR_INVALID_VALUE: a 16-byte-aligned address, a row stride that is a multiple of 16
 * below 2^40, dimensions of 1..2^32, boxes of 1..256 per dimension whose inner extent is a
 * multiple of 16 bytes and, with the 128-byte swizzle, at most its span.
 *
 * @param address device address of element (0, 0)
 * @param inner elements per row (dimension 0, contiguous)
 * @param outer rows (dimension 1)
 * @param rowStrideBytes bytes from one row to the next
 * @param boxInner elements per box row
 * @param boxOuter rows per box
 * @param swizzle {@link #SWIZZLE_128B} or {@link #SWIZZLE_NONE}
 * @param dataType {@link #DATA_TYPE_BF16} or {@link #DATA_TYPE_UINT8} (e4m3 codes, copied as bytes)
 */
public record TensorMapSpec(
    long address, long inner, long outer, long rowStrideBytes, int boxInner, int boxOuter, int swizzle,
    int dataType) {

  /** CU_TENSOR_MAP_DATA_TYPE_BFLOAT16. */
  public static final int DATA_TYPE_BF16 = 9;
  /** CU_TENSOR_MAP_DATA_TYPE_UINT8: one byte an element (FP8 codes). */
  public static final int DATA_TYPE_UINT8 = 0;
  /** CU_TENSOR_MAP_INTERLEAVE_NONE. */
  public static final int INTERLEAVE_NONE = 0;
  /** CU_TENSOR_MAP_SWIZZLE_NONE: box rows land one after the other, boxInner x 2 bytes apart. */
  public static final int SWIZZLE_NONE = 0;
  /** CU_TENSOR_MAP_SWIZZLE_128B: the layout wgmma's 128-byte-swizzle descriptors read. */
  public static final int SWIZZLE_128B = 3;
  /** CU_TENSOR_MAP_L2_PROMOTION_L2_256B. */
  public static final int L2_PROMOTION_256B = 3;
  /** CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE: elements outside the tensor read as zero. */
  public static final int OOB_FILL_ZERO = 0;
  /** Bytes per bf16 element. */
  public static final int ELEMENT_BYTES = 2;
  /** The 128-byte swizzle's span: a box row may not be longer. */
  public static final int SWIZZLE_SPAN_BYTES = 128;
  private static final long MAX_DIM = 1L << 32;
  private static final long MAX_STRIDE = 1L << 40;

  public TensorMapSpec {
    if (dataType != DATA_TYPE_BF16 && dataType != DATA_TYPE_UINT8) {
      throw new IllegalArgumentException("dataType must be " + DATA_TYPE_BF16 + " (bf16) or " + DATA_TYPE_UINT8
          + " (uint8) (was " + dataType + ")");
    }
    int elementBytes = dataType == DATA_TYPE_BF16 ? ELEMENT_BYTES : 1;
    String boxRow = "boxInner x " + elementBytes + " bytes";
    ParamChecks.pointer(address, "address");
    if (address % 16 != 0) {
      throw new IllegalArgumentException("address (0x" + Long.toHexString(address) + ") must be 16-byte aligned");
    }
    dimension(inner, "inner");
    dimension(outer, "outer");
    if (rowStrideBytes % 16 != 0 || rowStrideBytes < inner * elementBytes || rowStrideBytes >= MAX_STRIDE) {
      throw new IllegalArgumentException("rowStrideBytes (" + rowStrideBytes + ") must be a multiple of 16, at least "
          + inner * elementBytes + " (inner x " + elementBytes + ") and below 2^40");
    }
    ParamChecks.positive(boxInner, "boxInner");
    ParamChecks.positive(boxOuter, "boxOuter");
    ParamChecks.atMost(boxOuter, 256, "boxOuter");
    ParamChecks.atMost(boxInner, 256, "boxInner");
    if (swizzle != SWIZZLE_NONE && swizzle != SWIZZLE_128B) {
      throw new IllegalArgumentException("swizzle must be " + SWIZZLE_NONE + " (none) or " + SWIZZLE_128B
          + " (128B) (was " + swizzle + ")");
    }
    if (swizzle == SWIZZLE_128B) {
      ParamChecks.atMost(boxInner * elementBytes, SWIZZLE_SPAN_BYTES, boxRow);
    }
    ParamChecks.multipleOf(boxInner * elementBytes, 16, boxRow);
  }

  /** A bf16 map with the given swizzle. */
  public TensorMapSpec(long address, long inner, long outer, long rowStrideBytes, int boxInner, int boxOuter,
      int swizzle) {
    this(address, inner, outer, rowStrideBytes, boxInner, boxOuter, swizzle, DATA_TYPE_BF16);
  }

  /** A bf16 map with the 128-byte swizzle (the layout wgmma's descriptors read). */
  public TensorMapSpec(long address, long inner, long outer, long rowStrideBytes, int boxInner, int boxOuter) {
    this(address, inner, outer, rowStrideBytes, boxInner, boxOuter, SWIZZLE_128B);
  }

  private static void dimension(long value, String name) {
    if (value < 1 || value > MAX_DIM) {
      throw new IllegalArgumentException(name + " must be 1..2^32 (was " + value + ")");
    }
  }

  /** {@code globalDim}: innermost first. */
  public long[] globalDims() {
    return new long[] {inner, outer};
  }

  /** {@code globalStrides}: the rank − 1 strides above the innermost dimension, in bytes. */
  public long[] globalStrides() {
    return new long[] {rowStrideBytes};
  }

  /** {@code boxDim}: innermost first. */
  public int[] boxDims() {
    return new int[] {boxInner, boxOuter};
  }

  /** Bytes one box fills in shared memory (zero-filled parts included: the copy's expect_tx). */
  public int boxBytes() {
    return boxInner * boxOuter * elementBytes();
  }

  /** Bytes per element: 2 (bf16) or 1 (uint8). */
  public int elementBytes() {
    return dataType == DATA_TYPE_BF16 ? ELEMENT_BYTES : 1;
  }
}
