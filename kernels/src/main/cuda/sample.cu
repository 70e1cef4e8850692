// Token sampling per row of the logits: temperature, top-k, top-p, then a Gumbel-max draw whose
// random numbers are Philox4x32-10 of (token id, position) keyed by the row's seed.
//
// Same rule as the CPU reference (io.decodefleet.kernels.reference.TokenSampling, which states it
// in full). A row whose temperature is not > 0, or whose top_k is 1, takes argmax.cu's plain
// arg-max in the same launch: one launch serves a batch of greedy and sampled rows.
// Variants: one kernel.
// Layouts: logits (rows, vocab) bf16 with row stride `stride` elements; per-row params (rows)
// each; out (rows) int32, -1 where no logit is kept (a row of NaN). Rows are read with 16-byte
// loads when vocab and stride are multiples of 8, else element-wise.
// Grid: (rows); block: 512 threads; static shared memory only (a 256-bin uint64 histogram).
//
// Per row, each step a pass over the row (from L2 after the first):
//   1. the largest logit l_max; m = l_max / T is the largest z, since rounding l / T for T > 0
//      keeps order.
//   2. top-k (0 < K < vocab): the K-th largest logit, by a radix select over the order-preserving
//      16-bit image of the bf16 logits, two passes of 8 bits with a 256-bin count histogram.
//      Selecting on l instead of z = l / T is exact by the same monotonicity: the K-th largest z
//      is (K-th largest l) / T, and the kept set is then tested on z (z >= tau), which keeps the
//      values that only the division made equal to it. (On the bf16 image two passes suffice
//      where the float image of z would take four, and the count passes divide nothing.)
//   3. top-p (P < 1, m finite): the same select, each element of the top-k set weighted by
//      e = exp(z - m) in 2^-32 fixed point; the first pass's total gives the target
//      ceil(P * total). The largest l whose mass {l' >= l} reaches it, divided by T, is the rule's
//      largest z with enough mass. Integer sums make the threshold independent of the order of
//      the atomics, so a rerun draws the same token bit for bit.
//   4. the draw: every kept element (z >= tau) scores z + g, g = -log(-log u) from its Philox
//      word; the block's arg-max of (score, id), ties to the lowest id, is the token. Elements with
//      z < m - 20.5 are not scored: g lies in [-2.853, 17.33], so their best score stays below
//      the worst score of the largest z (skipped only while |m| < 2^20, where float rounding
//      stays well under the 0.3 margin). How much of a real model's vocabulary that skips is not
//      measured yet.
#include "common.cuh"
#include <limits.h>

struct SampleParams {
  int* out;                   // (rows) int32
  const bf16* logits;         // (rows, stride) bf16
  const float* temperature;   // (rows) float32; not > 0: greedy
  const float* topP;          // (rows) float32 in (0, 1]; 1: no cut
  const int* topK;            // (rows) int32; <= 0 or >= vocab: no cut; 1: greedy
  const uint32_t* seedLo;     // (rows) low 32 bits of the seed: Philox key word 0
  const uint32_t* seedHi;     // (rows) high 32 bits of the seed: Philox key word 1
  const int* position;        // (rows) int32: the sampled token's position, Philox counter word 1
  int rows;
  int vocab;
  int stride;
};
DF_PARAMS_SIZE(SampleParams, 80);

namespace df {

constexpr int kSampleThreads = 512;
constexpr int kSampleBins = 256;

// Philox4x32-10 (Salmon et al. 2011, as Random123 defines it), first output word only, for the
// counter (c0, c1, 0, 0) and key (k0, k1). reference.Philox is the same function.
__device__ __forceinline__ uint32_t philox_first_word(uint32_t c0, uint32_t c1, uint32_t k0, uint32_t k1) {
  uint32_t c2 = 0u;
  uint32_t c3 = 0u;
#pragma unroll
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint32_t hi0 = __umulhi(0xD2511F53u, c0);
    const uint32_t lo0 = 0xD2511F53u * c0;
    const uint32_t hi1 = __umulhi(0xCD9E8D57u, c2);
    const uint32_t lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return c0;
}

// g = -log(-log u) with u = ((x >> 8) + 0.5) / 2^24, never rounded: below 1/2 from u itself,
// above as -log1p(-(1 - u)) from 1 - u; both are exact in float (TokenSampling.gumbel).
__device__ __forceinline__ float gumbel(uint32_t x) {
  const uint32_t k = x >> 8;
  const float neg_log_u = k < (1u << 23)
      ? -logf(__uint2float_rn(2u * k + 1u) * 0x1p-25f)
      : -log1pf(-(__uint2float_rn((1u << 25) - 2u * k - 1u) * 0x1p-25f));
  return -logf(neg_log_u);
}

// Order-preserving image of a bf16 value (its bits) in 16 bits: for numbers a > b iff
// key(a) > key(b), and -0 has +0's key. NaN maps to 0, below every number (-inf maps to 0x007f).
__device__ __forceinline__ uint32_t bf16_order_key(uint32_t bits) {
  if ((bits & 0x7fffu) > 0x7f80u) return 0u;
  if (bits == 0x8000u) bits = 0u;
  return (bits & 0x8000u) ? (~bits & 0xffffu) : (bits | 0x8000u);
}

// The value of a non-zero key.
__device__ __forceinline__ float bf16_key_value(uint32_t key) {
  const uint32_t bits = (key & 0x8000u) ? (key & 0x7fffu) : (~key & 0xffffu);
  return __uint_as_float(bits << 16);
}

// Calls f(i, bits, valid) for every logit of the row, as raw bf16 bits. Every thread of the
// block makes the same number of calls (valid is false past the row's end), so f may use
// warp-wide intrinsics.
template <typename F>
__device__ __forceinline__ void for_each_logit(const bf16* row, int vocab, int stride, F&& f) {
  if (((vocab | stride) & 7) == 0) {
    const uint4* v = reinterpret_cast<const uint4*>(row);
    const int n8 = vocab >> 3;
    for (int c0 = 0; c0 < n8; c0 += blockDim.x) {
      const int c = c0 + static_cast<int>(threadIdx.x);
      const bool valid = c < n8;
      const uint4 w = valid ? __ldg(v + c) : make_uint4(0u, 0u, 0u, 0u);
      const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
      for (int j = 0; j < 8; j++) {
        f(c * 8 + j, (words[j >> 1] >> (16 * (j & 1))) & 0xffffu, valid);
      }
    }
  } else {
    const unsigned short* h = reinterpret_cast<const unsigned short*>(row);
    for (int c0 = 0; c0 < vocab; c0 += blockDim.x) {
      const int c = c0 + static_cast<int>(threadIdx.x);
      const bool valid = c < vocab;
      f(c, valid ? static_cast<uint32_t>(h[c]) : 0u, valid);
    }
  }
}

// block_max (common.cuh): max over the block, NaN ignored; every thread gets it.

struct SampleShared {
  unsigned long long hist[kSampleBins];  // per bin: elements, or mass in 2^-32 units
  unsigned long long need;               // weight still to reach inside the chosen bin
  uint32_t prefix;                       // key digits chosen so far
  int found;                             // 0: the whole row's weight falls short of the target
  float scratch[32];
};

// Warp 0, after a pass: the highest bin at which the weight of the bins from the top reaches
// `need` (in the first pass of a mass select: ceil(top_p * the total weight)). Lane l owns bins
// [8l, 8l + 8); a suffix scan over lanes finds the lane, that lane scans its own bins.
template <bool kMass>
__device__ __forceinline__ void choose_bin(SampleShared& sh, int pass, float top_p, unsigned long long need) {
  const int lane = threadIdx.x;
  unsigned long long own[8];
  unsigned long long sum = 0ull;
#pragma unroll
  for (int j = 0; j < 8; j++) {
    own[j] = sh.hist[lane * 8 + j];
    sum += own[j];
  }
  unsigned long long from_here = sum;  // weight of the bins from this lane's first one up
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const unsigned long long t = __shfl_down_sync(0xffffffffu, from_here, o);
    if (lane + o < 32) from_here += t;
  }
  if (pass > 0) {
    need = sh.need;
  } else if (kMass) {
    const double total = static_cast<double>(__shfl_sync(0xffffffffu, from_here, 0));
    need = static_cast<unsigned long long>(ceil(static_cast<double>(top_p) * total));
    need = need > 0ull ? need : 1ull;
  }
  const unsigned reach = __ballot_sync(0xffffffffu, from_here >= need);
  if (reach == 0u) {
    if (lane == 0) sh.found = 0;
    return;
  }
  const int at = 31 - __clz(reach);  // from_here never grows with the lane
  if (lane == at) {
    unsigned long long above = from_here - sum;  // weight of the lanes above
    bool done = false;
#pragma unroll
    for (int j = 7; j >= 0; j--) {
      if (!done && above + own[j] >= need) {
        const uint32_t digit = static_cast<uint32_t>(at * 8 + j);
        sh.need = need - above;
        sh.prefix = pass == 0 ? digit : (sh.prefix << 8) | digit;
        sh.found = 1;
        done = true;
      }
      above += own[j];
    }
  }
}

// Radix select over the row's 16-bit logit keys: the largest key w such that the weight of the
// counted elements with key >= w reaches the target, or 0 when the row's total falls short.
// Counting: weight 1 per non-NaN element, target `need`. Mass (kMass): weight exp(z - m) in 2^-32
// units per element with z >= tau_k, target ceil(top_p * total).
template <bool kMass>
__device__ uint32_t select_key(const SampleParams& p, const bf16* logits, float t, float m, float tau_k,
                               float top_p, unsigned long long need, SampleShared& sh) {
  const int lane = threadIdx.x & 31;
  uint32_t high = 0u;  // the high byte chosen by the first pass
  for (int pass = 0; pass < 2; pass++) {
    for (int b = threadIdx.x; b < kSampleBins; b += blockDim.x) sh.hist[b] = 0ull;
    __syncthreads();
    for_each_logit(logits, p.vocab, p.stride, [&](int, uint32_t bits, bool valid) {
      const uint32_t key = bf16_order_key(bits);
      const bool in = valid && key != 0u && (pass == 0 || (key >> 8) == high);
      const int bin = static_cast<int>(pass == 0 ? key >> 8 : key & 0xffu);
      if (kMass) {
        if (in) {
          const float z = __uint_as_float(bits << 16) / t;
          if (z >= tau_k) {
            const unsigned long long w = __float2ull_rn(expf(z - m) * 4294967296.f);
            if (w != 0ull) atomicAdd(&sh.hist[bin], w);
          }
        }
      } else {
        // Lanes of one bin add once: the first pass's bins (sign and exponent) are few.
        const unsigned peers = __match_any_sync(0xffffffffu, in ? bin : -1);
        if (in && lane == __ffs(peers) - 1) {
          atomicAdd(&sh.hist[bin], static_cast<unsigned long long>(__popc(peers)));
        }
      }
    });
    __syncthreads();
    if (threadIdx.x < 32) choose_bin<kMass>(sh, pass, top_p, need);
    __syncthreads();
    if (!sh.found) return 0u;
    high = sh.prefix;
  }
  return high;  // both bytes after the second pass
}

__device__ __forceinline__ void sample_row(const SampleParams& p) {
  __shared__ SampleShared sh;
  const int row = blockIdx.x;
  const float t = p.temperature[row];
  const int top_k = p.topK[row];
  if (!(t > 0.f) || top_k == 1) {
    const ArgmaxParams greedy{p.out, p.logits, p.rows, p.vocab, p.stride};
    argmax_row(greedy);
    return;
  }
  const float top_p = p.topP[row];
  const bf16* logits = p.logits + static_cast<size_t>(row) * p.stride;

  float l_max = DF_NEG_INF;
  for_each_logit(logits, p.vocab, p.stride, [&](int, uint32_t bits, bool valid) {
    if (valid) l_max = fmaxf(l_max, __uint_as_float(bits << 16));
  });
  const float m = block_max(l_max, sh.scratch) / t;

  float tau = DF_NEG_INF;  // kept: z >= tau
  if (top_k > 0 && top_k < p.vocab) {
    const uint32_t key = select_key<false>(p, logits, t, m, tau, top_p, static_cast<unsigned long long>(top_k), sh);
    if (key != 0u) tau = bf16_key_value(key) / t;
  }
  if (top_p < 1.f && isfinite(m)) {
    const uint32_t key = select_key<true>(p, logits, t, m, tau, top_p, 0ull, sh);
    if (key != 0u) tau = bf16_key_value(key) / t;
  }

  const float lowest = fabsf(m) < 1048576.f ? fmaxf(tau, m - 20.5f) : tau;
  const uint32_t k0 = p.seedLo[row];
  const uint32_t k1 = p.seedHi[row];
  const uint32_t n = static_cast<uint32_t>(p.position[row]);
  float best = DF_NEG_INF;
  int at = INT_MAX;
  for_each_logit(logits, p.vocab, p.stride, [&](int i, uint32_t bits, bool valid) {
    const float z = __uint_as_float(bits << 16) / t;
    if (valid && z >= lowest) {
      take_better(best, at, z + gumbel(philox_first_word(static_cast<uint32_t>(i), n, k0, k1)), i);
    }
  });
  block_argmax_to(best, at, p.out + row);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kSampleThreads)
    df_sample(const __grid_constant__ SampleParams p) {
  df::pdl_entry();
  df::sample_row(p);
}
