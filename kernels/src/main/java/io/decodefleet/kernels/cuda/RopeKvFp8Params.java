package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code RopeKvFp8Params} in rope_kv.cu: {@link RopeKvParams}'s rotation and append into
 * an FP8 e4m3fn cache, each stored element {@code e4m3(x / kScale)} (K) or {@code e4m3(x / vScale)}
 * (V), as {@code PagedKvCache.appendFp8}; the token's k and v in the qkv buffer are overwritten with
 * what the cache holds (code times scale, as bf16), which the prefill kernel then reads. q/k norms
 * and attention biases as in {@link RopeKvParams}: the codes are those of the (biased,) normed, rotated
 * k and of the (biased) v.
 *
 * @param v (n, vStride) bf16, in/out
 * @param kCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
 * @param vCache (numBlocks, blockSize, kvHeads, headDim) e4m3 codes
 */
public record RopeKvFp8Params(
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
    float kScale,
    float vScale,
    float eps)
    implements KernelParams {

  public static final StructLayout LAYOUT = StructLayout.of(RopeKvFp8Params.class);

  public RopeKvFp8Params {
    new RopeKvParams(q, k, v, kCache, vCache, positions, slotMapping, cosSin, qNorm, kNorm, qBias, kBias, vBias, qOut,
        n, qHeads, kvHeads, headDim, qStride, kStride, vStride, tablePositions, qOutStride, eps);
    KvScales.check(kScale, vScale);
  }

  /** {@code p}'s launch (its q/k norms and biases included) over an FP8 cache with these scales. */
  public static RopeKvFp8Params of(RopeKvParams p, float kScale, float vScale) {
    return new RopeKvFp8Params(p.q(), p.k(), p.v(), p.kCache(), p.vCache(), p.positions(), p.slotMapping(),
        p.cosSin(), p.qNorm(), p.kNorm(), p.qBias(), p.kBias(), p.vBias(), p.qOut(), p.n(), p.qHeads(), p.kvHeads(),
        p.headDim(), p.qStride(), p.kStride(), p.vStride(), p.tablePositions(), p.qOutStride(), kScale, vScale,
        p.eps());
  }

  /** One CTA per token. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(n, Kernel.ROPE_KV_APPEND_FP8);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
