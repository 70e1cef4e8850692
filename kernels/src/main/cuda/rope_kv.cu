// RoPE fused with appending K/V into the paged cache: the step between the QKV projection and
// attention.
//
//   q[t, h, :] and k[t, h, :] rotated in place by position positions[t] (Hugging Face
//   "rotate_half": element i pairs with i + headDim/2; x' = x cos - y sin, y' = x sin + y cos);
//   then kCache[slot] = rotated k[t], vCache[slot] = v[t] for slot = slotMapping[t] =
//   block * blockSize + offset (a negative slot is a padding token: rotate, do not store).
//
// The angles come from a host-built table (io.decodefleet.kernels.cuda.RopeTable), computed in
// double and stored as float: computing position * theta^(-2i/d) in float32 on the device would
// be off by milliradians at long positions. A position outside the table gives NaN.
// Variants: df_rope_kv_append over a bf16 cache; df_rope_kv_append_fp8 over an FP8 e4m3fn cache
// (RopeKvFp8Params): each stored element is e4m3(x / kScale) (K, x the float32 rotation before it
// is rounded to bf16) or e4m3(x / vScale) (V), as
// the CPU reference's PagedKvCache.appendFp8 stores them, and the token's k and v in the qkv
// buffer are overwritten with what the cache now holds (code * scale, rounded to bf16), so that the
// prefill kernel, which reads the fresh tokens' k and v from there, attends to the values every
// later step reads from the cache.
// Layouts: q (n, qStride) bf16 with heads (qHeads, headDim) at the start of each row, k (n,
// kStride), v (n, vStride) likewise with kvHeads heads, so q, k and v may be views into one fused
// qkv buffer; kCache, vCache (numBlocks, blockSize, kvHeads, headDim) bf16; cosSin
// (tablePositions, headDim) float32: cos of the headDim/2 frequencies, then their sin.
// headDim is a multiple of 16; strides are multiples of 8.
// Grid: (n); block: 128 threads.
#include "fp8.cuh"

struct RopeKvParams {
  bf16* q;               // (n, qStride) bf16, in/out
  bf16* k;               // (n, kStride) bf16, in/out
  const bf16* v;         // (n, vStride) bf16
  bf16* kCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16, written at slots
  bf16* vCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16, written at slots
  const int* positions;  // (n) int32
  const int* slotMapping;  // (n) int32, negative = do not store
  const float* cosSin;   // (tablePositions, headDim) float32
  int n;
  int qHeads;
  int kvHeads;
  int headDim;
  int qStride;
  int kStride;
  int vStride;
  int tablePositions;
};
DF_PARAMS_SIZE(RopeKvParams, 96);

struct RopeKvFp8Params {
  bf16* q;               // (n, qStride) bf16, in/out
  bf16* k;               // (n, kStride) bf16, in/out: rotated, then as the cache holds it
  bf16* v;               // (n, vStride) bf16, in/out: as the cache holds it
  uint8_t* kCache;       // (numBlocks, blockSize, kvHeads, headDim) e4m3, written at slots
  uint8_t* vCache;       // (numBlocks, blockSize, kvHeads, headDim) e4m3, written at slots
  const int* positions;  // (n) int32
  const int* slotMapping;  // (n) int32, negative = do not store
  const float* cosSin;   // (tablePositions, headDim) float32
  int n;
  int qHeads;
  int kvHeads;
  int headDim;
  int qStride;
  int kStride;
  int vStride;
  int tablePositions;
  float kScale;          // a K element is e4m3(code) * kScale
  float vScale;          // a V element is e4m3(code) * vScale
};
DF_PARAMS_SIZE(RopeKvFp8Params, 104);

namespace df {

constexpr int kRopeThreads = 128;

// Rotates eight (lo, hi) pairs of one head: lo = x[8j..8j+7], hi = x[half + 8j..].
__device__ __forceinline__ void rotate8(uint4& lo, uint4& hi, const float* cosRow,
                                        const float* sinRow, bool validPosition, float (&x)[8],
                                        float (&y)[8]) {
  float a[8], b[8];
  unpack8(lo, a);
  unpack8(hi, b);
  const float4 c0 = *reinterpret_cast<const float4*>(cosRow);
  const float4 c1 = *reinterpret_cast<const float4*>(cosRow + 4);
  const float4 s0 = *reinterpret_cast<const float4*>(sinRow);
  const float4 s1 = *reinterpret_cast<const float4*>(sinRow + 4);
  const float c[8] = {c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w};
  const float s[8] = {s0.x, s0.y, s0.z, s0.w, s1.x, s1.y, s1.z, s1.w};
#pragma unroll
  for (int i = 0; i < 8; i++) {
    x[i] = validPosition ? a[i] * c[i] - b[i] * s[i] : __int_as_float(0x7fc00000);
    y[i] = validPosition ? a[i] * s[i] + b[i] * c[i] : __int_as_float(0x7fc00000);
  }
  lo = pack8(x);
  hi = pack8(y);
}

template <bool kFp8, typename P>
__device__ __forceinline__ void rope_and_append(const P& p) {
  const int t = blockIdx.x;
  const int pos = p.positions[t];
  const bool validPosition = pos >= 0 && pos < p.tablePositions;
  const int half = p.headDim >> 1;
  const int groupsPerHead = half >> 3;  // eight pairs per thread-step
  const float* cosRow = p.cosSin + static_cast<size_t>(validPosition ? pos : 0) * p.headDim;
  const float* sinRow = cosRow + half;
  const int slot = p.slotMapping[t];
  const size_t slotBase = static_cast<size_t>(slot) * p.kvHeads * p.headDim;

  const int qWork = p.qHeads * groupsPerHead;
  const int kWork = p.kvHeads * groupsPerHead;
  for (int w = threadIdx.x; w < qWork + kWork; w += blockDim.x) {
    const bool isK = w >= qWork;
    const int ww = isK ? w - qWork : w;
    const int head = ww / groupsPerHead;
    const int j = (ww % groupsPerHead) * 8;
    bf16* row = isK ? p.k + static_cast<size_t>(t) * p.kStride : p.q + static_cast<size_t>(t) * p.qStride;
    uint4* lo = reinterpret_cast<uint4*>(row + head * p.headDim + j);
    uint4* hi = reinterpret_cast<uint4*>(row + head * p.headDim + half + j);
    uint4 a = *lo, b = *hi;
    float fa[8], fb[8];  // the rotated values in float32, before their rounding to bf16
    rotate8(a, b, cosRow + j, sinRow + j, validPosition, fa, fb);
    *lo = a;
    *hi = b;
    if constexpr (kFp8) {
      if (isK) {
        // The cache's codes of the float32 rotation (as the CPU reference quantizes it), and the
        // rotated k as the cache holds it, in place.
        float wa[8], wb[8];
        const uint2 ca = fp8_encode8(fa, p.kScale, wa);
        const uint2 cb = fp8_encode8(fb, p.kScale, wb);
        *lo = pack8(wa);
        *hi = pack8(wb);
        if (slot >= 0) {
          uint8_t* dst = p.kCache + slotBase + head * p.headDim;
          *reinterpret_cast<uint2*>(dst + j) = ca;
          *reinterpret_cast<uint2*>(dst + half + j) = cb;
        }
      }
    } else {
      if (isK && slot >= 0) {
        bf16* dst = p.kCache + slotBase + head * p.headDim;
        *reinterpret_cast<uint4*>(dst + j) = a;
        *reinterpret_cast<uint4*>(dst + half + j) = b;
      }
    }
  }
  const int vectors = (p.kvHeads * p.headDim) >> 3;
  if constexpr (kFp8) {
    uint4* v = reinterpret_cast<uint4*>(p.v + static_cast<size_t>(t) * p.vStride);
    uint2* dst = reinterpret_cast<uint2*>(p.vCache + slotBase);
    for (int i = threadIdx.x; i < vectors; i += blockDim.x) {
      float f[8], w[8];
      unpack8(v[i], f);
      const uint2 c = fp8_encode8(f, p.vScale, w);
      v[i] = pack8(w);
      if (slot >= 0) dst[i] = c;
    }
  } else if (slot >= 0) {
    const uint4* v = reinterpret_cast<const uint4*>(p.v + static_cast<size_t>(t) * p.vStride);
    uint4* dst = reinterpret_cast<uint4*>(p.vCache + slotBase);
    for (int i = threadIdx.x; i < vectors; i += blockDim.x) dst[i] = v[i];
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kRopeThreads)
    df_rope_kv_append(const __grid_constant__ RopeKvParams p) {
  df::rope_and_append<false>(p);
}

extern "C" __global__ void __launch_bounds__(df::kRopeThreads)
    df_rope_kv_append_fp8(const __grid_constant__ RopeKvFp8Params p) {
  df::rope_and_append<true>(p);
}
