package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code RopeKvParams} in rope_kv.cu: rotates q (in place, or into {@code qOut}) and k in place
 * and appends k and v to the paged cache at {@code slotMapping} (negative = padding token, not stored). With {@code qNorm}
 * and {@code kNorm} set (Qwen3's q/k norms), each q and k head is first RMS-normed over headDim
 * with that weight and {@code eps}, and rotated from the normed float32 values; both 0: no norms.
 * With {@code qBias}, {@code kBias} and {@code vBias} set (Qwen2's attention biases), each token's
 * q, k and v first get the bias added in float32, and v is overwritten with its biased value (what
 * the cache stores); all three 0: no biases.
 *
 * @param q (n, qStride) bf16, in/out
 * @param k (n, kStride) bf16, in/out
 * @param v (n, vStride) bf16, in/out with biases
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) bf16
 * @param positions (n) int32
 * @param slotMapping (n) int32: block * blockSize + offset
 * @param cosSin (tablePositions, headDim) float32 from {@link RopeTable}
 * @param qNorm (headDim) bf16, the layer's q norm weight shared by its heads; 0 for none
 * @param kNorm (headDim) bf16, the layer's k norm weight; 0 exactly when qNorm is
 * @param qBias (qHeads * headDim) bf16, the q projection's bias; 0 for none
 * @param kBias (kvHeads * headDim) bf16; 0 exactly when qBias is
 * @param vBias (kvHeads * headDim) bf16; 0 exactly when qBias is
 * @param qOut (n, qOutStride) bf16: where the rotated q goes (q is then left as it was); 0: in place in q
 * @param qOutStride qOut's row stride, a multiple of 8 (unread without qOut)
 * @param eps the q/k norms' epsilon (unread without them)
 */
public record RopeKvParams(
    long q,
    long k,
    long v,
    long kCache,
    long vCache,
    long positions,
    long slotMapping,
    long cosSin,
    long qNorm,
    long kNorm,
    long qBias,
    long kBias,
    long vBias,
    long qOut,
    int n,
    int qHeads,
    int kvHeads,
    int headDim,
    int qStride,
    int kStride,
    int vStride,
    int tablePositions,
    int qOutStride,
    float eps)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(RopeKvParams.class);

  /** With q/k norms, every head's inverse RMS is kept in the kernel's shared memory. */
  public static final int MAX_NORM_HEADS = 256;

  public RopeKvParams {
    ParamChecks.pointer(q, "q");
    ParamChecks.pointer(k, "k");
    ParamChecks.pointer(v, "v");
    ParamChecks.pointer(kCache, "kCache");
    ParamChecks.pointer(vCache, "vCache");
    ParamChecks.pointer(positions, "positions");
    ParamChecks.pointer(slotMapping, "slotMapping");
    ParamChecks.pointer(cosSin, "cosSin");
    ParamChecks.nonNegative(n, "n");
    ParamChecks.positive(qHeads, "qHeads");
    ParamChecks.positive(kvHeads, "kvHeads");
    ParamChecks.positive(headDim, "headDim");
    ParamChecks.multipleOf(headDim, 16, "headDim");
    ParamChecks.multipleOf(qStride, 8, "qStride");
    ParamChecks.multipleOf(kStride, 8, "kStride");
    ParamChecks.multipleOf(vStride, 8, "vStride");
    ParamChecks.positive(tablePositions, "tablePositions");
    if (qOut != 0L) {
      ParamChecks.multipleOf(qOutStride, 8, "qOutStride");
      if (qOutStride < qHeads * headDim) {
        throw new IllegalArgumentException("qOutStride (" + qOutStride + ") must hold the " + qHeads * headDim
            + " q columns");
      }
    }
    if ((qNorm == 0L) != (kNorm == 0L)) {
      throw new IllegalArgumentException("qNorm and kNorm must both be set or both be 0 but are " + qNorm + " and "
          + kNorm);
    }
    if ((qBias == 0L) != (kBias == 0L) || (qBias == 0L) != (vBias == 0L)) {
      throw new IllegalArgumentException("qBias, kBias and vBias must all be set or all be 0 but are " + qBias + ", "
          + kBias + " and " + vBias);
    }
    if (qNorm != 0L) {
      ParamChecks.atMost(qHeads + kvHeads, MAX_NORM_HEADS, "qHeads + kvHeads with q/k norms");
      if (!(eps >= 0f) || Float.isInfinite(eps)) {
        throw new IllegalArgumentException("eps must be finite and >= 0 but is " + eps);
      }
    }
  }

  /** Without q/k norms. */
  public RopeKvParams(long q, long k, long v, long kCache, long vCache, long positions, long slotMapping,
      long cosSin, int n, int qHeads, int kvHeads, int headDim, int qStride, int kStride, int vStride,
      int tablePositions) {
    this(q, k, v, kCache, vCache, positions, slotMapping, cosSin, 0L, 0L, 0L, 0L, 0L, 0L, n, qHeads, kvHeads, headDim,
        qStride, kStride, vStride, tablePositions, 0, 0f);
  }

  /** This launch with each q and k head RMS-normed by {@code qNorm} / {@code kNorm} (headDim bf16) before RoPE. */
  public RopeKvParams withQkNorm(long qNorm, long kNorm, float eps) {
    ParamChecks.pointer(qNorm, "qNorm");
    ParamChecks.pointer(kNorm, "kNorm");
    return new RopeKvParams(q, k, v, kCache, vCache, positions, slotMapping, cosSin, qNorm, kNorm, qBias, kBias,
        vBias, qOut, n, qHeads, kvHeads, headDim, qStride, kStride, vStride, tablePositions, qOutStride, eps);
  }

  /** This launch with the projections' biases added to q, k and v first (each (heads * headDim) bf16). */
  public RopeKvParams withBiases(long qBias, long kBias, long vBias) {
    ParamChecks.pointer(qBias, "qBias");
    ParamChecks.pointer(kBias, "kBias");
    ParamChecks.pointer(vBias, "vBias");
    return new RopeKvParams(q, k, v, kCache, vCache, positions, slotMapping, cosSin, qNorm, kNorm, qBias, kBias,
        vBias, qOut, n, qHeads, kvHeads, headDim, qStride, kStride, vStride, tablePositions, qOutStride, eps);
  }

  /** This launch with the rotated q written to {@code qOut} ((n, stride) bf16), q left as it was. */
  public RopeKvParams withQOut(long qOut, int stride) {
    ParamChecks.pointer(qOut, "qOut");
    return new RopeKvParams(q, k, v, kCache, vCache, positions, slotMapping, cosSin, qNorm, kNorm, qBias, kBias,
        vBias, qOut, n, qHeads, kvHeads, headDim, qStride, kStride, vStride, tablePositions, stride, eps);
  }

  /** Whether q, k and v get the projections' biases. */
  public boolean biases() {
    return qBias != 0L;
  }

  /** Whether each head is RMS-normed before its rotation. */
  public boolean qkNorm() {
    return qNorm != 0L;
  }

  /** One CTA per token. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(n, Kernel.ROPE_KV_APPEND);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
