// RoPE fused with appending K/V into the paged cache: the step between the QKV projection and
// attention.
//
//   q[t, h, :] and k[t, h, :] rotated in place by position positions[t] (Hugging Face
//   "rotate_half": element i pairs with i + headDim/2; x' = x cos - y sin, y' = x sin + y cos);
//   then kCache[slot] = rotated k[t], vCache[slot] = v[t] for slot = slotMapping[t] =
//   block * blockSize + offset (a negative slot is a padding token: rotate, do not store).
//
// q/k norms (Qwen3): with qNorm and kNorm set, each head of q and k is first RMS-normed over
// headDim, x * rsqrt(mean(x^2) + eps) * weight (the sum of squares in float32, the weight (headDim)
// bf16 shared by the layer's heads), and the rotation takes the normed values in float32, unrounded,
// as the CPU backend's RmsNorm.forward per head followed by Rope.apply does. A first pass (one warp a
// head) leaves each head's inverse RMS in shared memory; qNorm == nullptr skips it.
//
// Attention biases (Qwen2): with qBias, kBias and vBias set, each token's q, k and v first get the
// projection's bias added, in float32 (q/k before their norms and rotation), as the CPU backend adds
// it to the projection's output; the biased v is what the cache stores and, rounded to bf16, what the
// token's v in the qkv buffer then holds (the prefill kernel reads fresh tokens' v from there).
// qBias == nullptr: no biases.
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
// The rotated q is written in place, or where qOut is set to qOut (n, qOutStride), q left as it was (the
// decode step's attention reads q densely packed: so it needs no copy of its own).
// Layouts: q (n, qStride) bf16 with heads (qHeads, headDim) at the start of each row, k (n,
// kStride), v (n, vStride) likewise with kvHeads heads, so q, k and v may be views into one fused
// qkv buffer; kCache, vCache (numBlocks, blockSize, kvHeads, headDim) bf16; cosSin
// (tablePositions, headDim) float32: cos of the headDim/2 frequencies, then their sin.
// headDim is a multiple of 16; strides are multiples of 8; with q/k norms qHeads +
// kvHeads is at most kRopeMaxNormHeads.
// Grid: (n); block: 384 threads (at one token, as in a batch-1 decode step, the whole step is one CTA:
// enough threads that each takes one group of 8 pairs, not a chain of three).
#include "fp8.cuh"

struct RopeKvParams {
  bf16* q;               // (n, qStride) bf16, in/out
  bf16* k;               // (n, kStride) bf16, in/out
  bf16* v;               // (n, vStride) bf16, in/out with biases (the biased v)
  bf16* kCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16, written at slots
  bf16* vCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16, written at slots
  const int* positions;  // (n) int32
  const int* slotMapping;  // (n) int32, negative = do not store
  const float* cosSin;   // (tablePositions, headDim) float32
  const bf16* qNorm;     // (headDim) bf16, or nullptr: no q/k norms
  const bf16* kNorm;     // (headDim) bf16, or nullptr with qNorm
  const bf16* qBias;     // (qHeads * headDim) bf16, or nullptr: no attention biases
  const bf16* kBias;     // (kvHeads * headDim) bf16, or nullptr with qBias
  const bf16* vBias;     // (kvHeads * headDim) bf16, or nullptr with qBias
  bf16* qOut;            // (n, qOutStride) bf16: where the rotated q goes; nullptr: in place in q
  int n;
  int qHeads;
  int kvHeads;
  int headDim;
  int qStride;
  int kStride;
  int vStride;
  int tablePositions;
  int qOutStride;
  float eps;             // the q/k norms' epsilon
};
DF_PARAMS_SIZE(RopeKvParams, 152);

struct RopeKvFp8Params {
  bf16* q;               // (n, qStride) bf16, in/out
  bf16* k;               // (n, kStride) bf16, in/out: rotated, then as the cache holds it
  bf16* v;               // (n, vStride) bf16, in/out: as the cache holds it
  uint8_t* kCache;       // (numBlocks, blockSize, kvHeads, headDim) e4m3, written at slots
  uint8_t* vCache;       // (numBlocks, blockSize, kvHeads, headDim) e4m3, written at slots
  const int* positions;  // (n) int32
  const int* slotMapping;  // (n) int32, negative = do not store
  const float* cosSin;   // (tablePositions, headDim) float32
  const bf16* qNorm;     // (headDim) bf16, or nullptr: no q/k norms
  const bf16* kNorm;     // (headDim) bf16, or nullptr with qNorm
  const bf16* qBias;     // (qHeads * headDim) bf16, or nullptr: no attention biases
  const bf16* kBias;     // (kvHeads * headDim) bf16, or nullptr with qBias
  const bf16* vBias;     // (kvHeads * headDim) bf16, or nullptr with qBias
  bf16* qOut;            // (n, qOutStride) bf16: where the rotated q goes; nullptr: in place in q
  int n;
  int qHeads;
  int kvHeads;
  int headDim;
  int qStride;
  int kStride;
  int vStride;
  int tablePositions;
  int qOutStride;
  float kScale;          // a K element is e4m3(code) * kScale
  float vScale;          // a V element is e4m3(code) * vScale
  float eps;             // the q/k norms' epsilon
};
DF_PARAMS_SIZE(RopeKvFp8Params, 160);

namespace df {

constexpr int kRopeThreads = 384;  // a 40-head token's 320 groups of 8 pairs in one pass

constexpr int kRopeMaxNormHeads = 256;

// The cos and sin of eight frequencies of one position (cosRow[0..7], sinRow[0..7]).
struct CosSin8 {
  float4 c0, c1, s0, s1;
};

__device__ __forceinline__ CosSin8 load_cos_sin8(const float* cosRow, const float* sinRow) {
  return {*reinterpret_cast<const float4*>(cosRow), *reinterpret_cast<const float4*>(cosRow + 4),
          *reinterpret_cast<const float4*>(sinRow), *reinterpret_cast<const float4*>(sinRow + 4)};
}

// Rotates eight (lo, hi) pairs of one head, given in float32: a = x[8j..8j+7], b = x[half + 8j..].
__device__ __forceinline__ void rotate8(const float (&a)[8], const float (&b)[8], const CosSin8& cs,
                                        bool validPosition, float (&x)[8], float (&y)[8]) {
  const float c[8] = {cs.c0.x, cs.c0.y, cs.c0.z, cs.c0.w, cs.c1.x, cs.c1.y, cs.c1.z, cs.c1.w};
  const float s[8] = {cs.s0.x, cs.s0.y, cs.s0.z, cs.s0.w, cs.s1.x, cs.s1.y, cs.s1.z, cs.s1.w};
#pragma unroll
  for (int i = 0; i < 8; i++) {
    x[i] = validPosition ? a[i] * c[i] - b[i] * s[i] : __int_as_float(0x7fc00000);
    y[i] = validPosition ? a[i] * s[i] + b[i] * c[i] : __int_as_float(0x7fc00000);
  }
}

// x[i] += bias[i] for eight elements (the projection's bias, in float32).
__device__ __forceinline__ void add8(float (&x)[8], const bf16* bias) {
  float b[8];
  unpack8(*reinterpret_cast<const uint4*>(bias), b);
#pragma unroll
  for (int i = 0; i < 8; i++) x[i] += b[i];
}

// Each q head's (then each k head's) inverse RMS into invRms[head] (k heads after the q heads):
// one warp a head, the float32 sum of squares reduced across the warp.
template <typename P>
__device__ __forceinline__ void head_inverse_rms(const P& p, int t, float* invRms) {
  const int lane = threadIdx.x & 31;
  const int vectors = p.headDim >> 3;
  for (int hd = threadIdx.x >> 5; hd < p.qHeads + p.kvHeads; hd += blockDim.x >> 5) {
    const bool isK = hd >= p.qHeads;
    const bf16* row = isK ? p.k + static_cast<size_t>(t) * p.kStride + (hd - p.qHeads) * p.headDim
                          : p.q + static_cast<size_t>(t) * p.qStride + hd * p.headDim;
    const bool biased = p.qBias != nullptr;
    const bf16* bias = isK ? p.kBias + (hd - p.qHeads) * p.headDim : p.qBias + hd * p.headDim;
    float ss = 0.f;
    for (int i = lane; i < vectors; i += 32) {
      float f[8];
      unpack8(reinterpret_cast<const uint4*>(row)[i], f);
      if (biased) add8(f, bias + 8 * i);
#pragma unroll
      for (int e = 0; e < 8; e++) ss += f[e] * f[e];
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if (lane == 0) invRms[hd] = rsqrtf(ss / static_cast<float>(p.headDim) + p.eps);
  }
}

// x[i] = (x[i] * inv) * weight[i] for eight elements, in the CPU reference's order.
__device__ __forceinline__ void norm8(float (&x)[8], float inv, const bf16* weight) {
  float w[8];
  unpack8(*reinterpret_cast<const uint4*>(weight), w);
#pragma unroll
  for (int i = 0; i < 8; i++) x[i] = (x[i] * inv) * w[i];
}

// The token's position, slot and its angles are step inputs and a table no launch of the step writes, so they are
// read before pdl_entry (the thread's first pairs' cos and sin with them): the chain position -> angles overlaps
// the projection before it, and after the wait only q, k and v are read.
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
  const int firstJ = (static_cast<int>(threadIdx.x) % groupsPerHead) * 8;  // the first pairs' place in a head
  const CosSin8 first = load_cos_sin8(cosRow + firstJ, sinRow + firstJ);
  pdl_entry();

  __shared__ float invRms[kRopeMaxNormHeads];
  const bool qkNorm = p.qNorm != nullptr;
  if (qkNorm) {
    head_inverse_rms(p, t, invRms);
    __syncthreads();  // every head's sum is read before any thread writes its rotation back
  }

  // The thread's first eight v elements are read now, before the rotations: their DRAM round trip
  // overlaps the q/k one instead of following it (a prefill's CTAs are each one token, latency-bound).
  const int vectors = (p.kvHeads * p.headDim) >> 3;
  uint4* vRow = reinterpret_cast<uint4*>(p.v + static_cast<size_t>(t) * p.vStride);
  const bool holdsV = static_cast<int>(threadIdx.x) < vectors && (kFp8 || p.vBias != nullptr || slot >= 0);
  const uint4 vHeld = holdsV ? vRow[threadIdx.x] : make_uint4(0, 0, 0, 0);
  auto vAt = [&](int i) { return i == static_cast<int>(threadIdx.x) ? vHeld : vRow[i]; };

  const int qWork = p.qHeads * groupsPerHead;
  const int kWork = p.kvHeads * groupsPerHead;
  for (int w = threadIdx.x; w < qWork + kWork; w += blockDim.x) {
    const bool isK = w >= qWork;
    const int ww = isK ? w - qWork : w;
    const int head = ww / groupsPerHead;
    const int j = (ww % groupsPerHead) * 8;
    bf16* row = isK ? p.k + static_cast<size_t>(t) * p.kStride : p.q + static_cast<size_t>(t) * p.qStride;
    bf16* outRow = isK || p.qOut == nullptr ? row : p.qOut + static_cast<size_t>(t) * p.qOutStride;
    const uint4* lo = reinterpret_cast<const uint4*>(row + head * p.headDim + j);
    const uint4* hi = reinterpret_cast<const uint4*>(row + head * p.headDim + half + j);
    uint4* loOut = reinterpret_cast<uint4*>(outRow + head * p.headDim + j);
    uint4* hiOut = reinterpret_cast<uint4*>(outRow + head * p.headDim + half + j);
    float xa[8], xb[8];
    unpack8(*lo, xa);
    unpack8(*hi, xb);
    if (p.qBias != nullptr) {
      const bf16* bias = (isK ? p.kBias : p.qBias) + head * p.headDim;
      add8(xa, bias + j);
      add8(xb, bias + half + j);
    }
    if (qkNorm) {
      const float inv = invRms[isK ? p.qHeads + head : head];
      const bf16* weight = isK ? p.kNorm : p.qNorm;
      norm8(xa, inv, weight + j);
      norm8(xb, inv, weight + half + j);
    }
    float fa[8], fb[8];  // the rotated values in float32, before their rounding to bf16
    rotate8(xa, xb, w == static_cast<int>(threadIdx.x) ? first : load_cos_sin8(cosRow + j, sinRow + j), validPosition,
            fa, fb);
    const uint4 a = pack8(fa), b = pack8(fb);
    *loOut = a;
    *hiOut = b;
    if constexpr (kFp8) {
      if (isK) {
        // The cache's codes of the float32 rotation (as the CPU reference quantizes it), and the
        // rotated k as the cache holds it, in place.
        float wa[8], wb[8];
        const uint2 ca = fp8_encode8(fa, p.kScale, wa);
        const uint2 cb = fp8_encode8(fb, p.kScale, wb);
        *loOut = pack8(wa);
        *hiOut = pack8(wb);
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
  if constexpr (kFp8) {
    uint2* dst = reinterpret_cast<uint2*>(p.vCache + slotBase);
    for (int i = threadIdx.x; i < vectors; i += blockDim.x) {
      float f[8], w[8];
      unpack8(vAt(i), f);
      if (p.vBias != nullptr) add8(f, p.vBias + 8 * i);
      const uint2 c = fp8_encode8(f, p.vScale, w);
      vRow[i] = pack8(w);
      if (slot >= 0) dst[i] = c;
    }
  } else if (p.vBias != nullptr) {
    uint4* dst = reinterpret_cast<uint4*>(p.vCache + slotBase);
    for (int i = threadIdx.x; i < vectors; i += blockDim.x) {
      float f[8];
      unpack8(vAt(i), f);
      add8(f, p.vBias + 8 * i);
      const uint4 biased = pack8(f);
      vRow[i] = biased;
      if (slot >= 0) dst[i] = biased;
    }
  } else if (slot >= 0) {
    uint4* dst = reinterpret_cast<uint4*>(p.vCache + slotBase);
    for (int i = threadIdx.x; i < vectors; i += blockDim.x) dst[i] = vAt(i);
  }
}

}  // namespace df

// Two CTAs an SM (at most 85 registers; ptxas chose 97 unbounded, one CTA an SM): a prompt's step launches one
// CTA a token, each a DRAM round trip for q and k (and v) and little else, so the bytes in flight, not the
// arithmetic, set its time. Three an SM (56 registers) spills.
extern "C" __global__ void __launch_bounds__(df::kRopeThreads, 2)
    df_rope_kv_append(const __grid_constant__ RopeKvParams p) {
  df::rope_and_append<false>(p);  // pdl_entry inside, after the step inputs' reads
}

// Two CTAs an SM (at most 85 registers): left to itself ptxas once spilled the FP8 variant (biases in).
extern "C" __global__ void __launch_bounds__(df::kRopeThreads, 2)
    df_rope_kv_append_fp8(const __grid_constant__ RopeKvFp8Params p) {
  df::rope_and_append<true>(p);  // pdl_entry inside, after the step inputs' reads
}
