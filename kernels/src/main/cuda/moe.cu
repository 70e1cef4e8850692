// Mixture-of-experts decode: the router, tokens grouped by expert, the experts' SwiGLU GEMMs over
// their own rows, and the weighted combine back into token order (reference.MoeRouter,
// reference.ExpertPermutation, reference.GroupedExperts).
//
// Everything a step needs to know about its routing stays on the device: the experts each token
// chose, each expert's row count and offset, the permuted rows. Grids are sized for the worst case
// (every launched row live, every expert busy) and CTAs with nothing to do exit at once, so the
// whole layer is captured into a decode graph like the dense MLP. `liveRows` (the step's real row
// count, the graph's padding rows excluded) is read from device memory for the same reason.
//
// Variants:
//   df_moe_route          one warp per token: float32 gate logits -> softmax (float64, summed per
//                         lane and across lanes, MoeRouter.sumInLaneOrder) -> top-k (ties to the lower expert id) -> weights
//                         (renormalised over the k in slot order when normTopk); a device flag
//                         makes it leave a routing the host gave in place (the parity tool's)
//   df_moe_permute        one CTA: per-expert counts, capacity, offsets, each (token, slot)'s row in
//                         expert order (within an expert in batch order), the layer's expert load
//   df_moe_experts_gate_up grid (n tiles, experts): act = silu(x.gate^T) * (x.up^T) over the expert's
//                         rows, x gathered through tokenOf; an expert with no rows reads no weight.
//                         With the permutation's `active` list the grid's y is min(experts, rows * k)
//                         and CTA row y runs the y-th expert that has rows (rows past the list exit)
//   df_moe_experts_down   grid (n tiles, experts): y = act.down^T over the expert's rows
//   df_moe_combine        grid (hidden / 8 / 256, rows): out[t] = sum_j w[t, j] y[rowOf[t, j]] in
//                         slot order from zero, dropped pairs skipped; padding rows get zeros. An
//                         expert-parallel rank sums only its experts' pairs, in float32 (the
//                         group's all-reduce adds the other ranks' partials)
//
// Layouts: logits (rows, logitStride) float32; experts (rows, k) int32; weights (rows, k) float32;
// expert weights (numExperts, gate rows then up rows, hidden) and (numExperts, hidden, inter) bf16;
// act (rows * k, inter) and y (rows * k, hidden) bf16 in expert order. hidden and inter are
// multiples of 8 (16-byte vectors); numExperts <= 256, k <= 32 (MoeRouteParams.MAX_K).
#include "common.cuh"

struct MoeRouteParams {
  int* experts;          // (rows, k) int32, most probable first
  float* weights;        // (rows, k) float32
  const float* logits;   // (rows, logitStride) float32: x . router^T
  const int* liveRows;   // (1) rows of the step that are real; null: all `rows`
  const int* skip;       // (1) non-zero: route nothing, experts and weights were given; null: route
  int rows;              // rows launched
  int numExperts;
  int k;
  int logitStride;
  int normTopk;          // 1: weights divided by their float32 sum
};
DF_PARAMS_SIZE(MoeRouteParams, 64);

struct MoePermuteParams {
  int* offsets;          // (numExperts + 1) expert e's rows are [offsets[e], offsets[e + 1])
  int* tokenOf;          // (rows * k) the token of each permuted row
  int* rowOf;            // (rows, k) permuted row of each (token, slot), -1 where dropped
  int* load;             // (numExperts, 2) tokens kept and dropped; null: not counted
  const int* experts;    // (rows, k)
  const int* liveRows;   // (1) or null
  const int* capacities; // (rows + 1) each live row count's capacity per expert; null: unbounded
  int* active;           // (numExperts + 1) [0]: experts that kept a row, then their ids ascending; null: not written
  int rows;
  int numExperts;
  int k;
};
DF_PARAMS_SIZE(MoePermuteParams, 80);

struct MoeExpertGemmParams {
  bf16* out;             // (rows * k, n) bf16 in expert order
  const bf16* x;         // gate_up: (tokens, xStride) gathered by tokenOf; down: (rows * k, xStride)
  const bf16* w;         // (numExperts, 2n or n, k) bf16
  const int* offsets;    // (numExperts + 1)
  const int* tokenOf;    // (rows * k); null for down (rows read in expert order)
  const int* active;     // the permutation's list of experts with rows: CTA row y runs its y-th; null: expert y
  int n;                 // output columns per row
  int k;                 // reduction length, a multiple of 8
  int xStride;
  int numExperts;
};
DF_PARAMS_SIZE(MoeExpertGemmParams, 64);

struct MoeCombineParams {
  void* out;             // (rows, hidden) bf16, or float32 when outF32
  const bf16* y;         // (rows * k, hidden) bf16 in expert order
  const int* rowOf;      // (rows, k)
  const float* weights;  // (rows, k) float32
  const int* liveRows;   // (1) or null
  const int* experts;    // (rows, k) the routing; null: every expert is this device's
  int rows;
  int hidden;
  int k;
  int expertLo;          // with experts: only pairs routed to [expertLo, expertHi) are summed
  int expertHi;
  int outF32;            // 1: float32 out (an expert-parallel rank's partial sum, all-reduced next)
};
DF_PARAMS_SIZE(MoeCombineParams, 72);

namespace df {

constexpr int kMoeMaxExperts = 256;
constexpr int kMoeRouteThreads = 128;
constexpr int kMoePermuteThreads = 256;
constexpr int kMoeGemmThreads = 128;
// CTAs an SM keeps of the CUDA-core expert GEMMs (20 warps): at 5 the compiler fits them in 92-96
// registers without spilling on sm_90a and sm_100a (the 32 sums, 32 widened weights and 8 x values
// are live together; at 6, sm_100a spills); unbounded they took 121-123 and an SM held 4.
constexpr int kMoeGemmMinBlocks = 5;
constexpr int kMoeGemmRows = 8;          // token rows per pass over a weight tile
constexpr int kMoeCombineThreads = 256;

__device__ __forceinline__ int moe_live(const int* liveRows, int rows) {
  return liveRows == nullptr ? rows : min(*liveRows, rows);
}

// ---- router ----

// Lane `lane` holds experts c * 128 + lane * 4 + i (c < 2, i < 4), in ascending order.
__device__ __forceinline__ int moe_expert_of(int lane, int slot) {
  return (slot >> 2) * 128 + lane * 4 + (slot & 3);
}

__device__ __forceinline__ void moe_route_row(const MoeRouteParams& p, int row) {
  const int lane = threadIdx.x & 31;
  const int E = p.numExperts;
  const float* lg = p.logits + static_cast<size_t>(row) * p.logitStride;
  float v[8];
  const bool vec = (E & 3) == 0 && (p.logitStride & 3) == 0;
#pragma unroll
  for (int c = 0; c < 2; c++) {
    const int base = c * 128 + lane * 4;
    if (vec && base < E) {
      const float4 f = *reinterpret_cast<const float4*>(lg + base);
      v[c * 4] = f.x; v[c * 4 + 1] = f.y; v[c * 4 + 2] = f.z; v[c * 4 + 3] = f.w;
    } else {
#pragma unroll
      for (int i = 0; i < 4; i++) v[c * 4 + i] = base + i < E ? lg[base + i] : DF_NEG_INF;
    }
  }
  float m = DF_NEG_INF;
#pragma unroll
  for (int s = 0; s < 8; s++) m = fmaxf(m, v[s]);
  m = warp_max(m);
  // exp in float64 of the float32 difference; each lane sums its experts in ascending id, and the
  // lane sums meet in an xor butterfly (addition commutes: every lane ends with lane 0's sum). That
  // is the reference's order (MoeRouter.sumInLaneOrder), so every probability is the reference's up
  // to the last bit of a double exp.
  double ex[8];
  double sum = 0.0;
#pragma unroll
  for (int s = 0; s < 8; s++) {
    const int e = moe_expert_of(lane, s);
    ex[s] = e < E ? exp(static_cast<double>(v[s]) - static_cast<double>(m)) : 0.0;
    if (e < E) sum += ex[s];
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  float prob[8];
#pragma unroll
  for (int s = 0; s < 8; s++) {
    const int e = moe_expert_of(lane, s);
    prob[s] = e < E ? static_cast<float>(ex[s] / sum) : -1.f;
  }
  unsigned taken = 0;  // bit s: this lane's slot s is chosen
  float total = 0.f;
  float mine = 0.f;  // lane j: slot j's weight and expert
  int mineExpert = -1;
  for (int j = 0; j < p.k; j++) {
    // This lane's best untaken expert: strict > in ascending id, so the lower id keeps a tie.
    float bv = -2.f;
    int bi = 0x7fffffff;
#pragma unroll
    for (int s = 0; s < 8; s++) {
      const int e = moe_expert_of(lane, s);
      if (e < E && !(taken >> s & 1u) && (bi == 0x7fffffff || prob[s] > bv)) {
        bv = prob[s];
        bi = e;
      }
    }
    // The warp's largest probability, then the lowest id holding it: probabilities are >= +0, so
    // their bits order as they do (a lane without a candidate offers 0 and no id).
    const bool has = bi != 0x7fffffff;
    const unsigned key = has ? __float_as_uint(bv) : 0u;
    const unsigned best = __reduce_max_sync(0xffffffffu, key);
    const int chosen = static_cast<int>(__reduce_min_sync(0xffffffffu, has && key == best ? static_cast<unsigned>(bi)
                                                                                           : 0xffffffffu));
    const float chosenProb = __uint_as_float(best);
#pragma unroll
    for (int s = 0; s < 8; s++) {
      if (moe_expert_of(lane, s) == chosen) taken |= 1u << s;
    }
    if (lane == j) {
      mine = chosenProb;
      mineExpert = chosen;
    }
    total += chosenProb;  // float32 in slot order, the same in every lane
  }
  if (lane < p.k) {
    p.experts[static_cast<size_t>(row) * p.k + lane] = mineExpert;
    p.weights[static_cast<size_t>(row) * p.k + lane] = p.normTopk ? mine / total : mine;
  }
}

// ---- permutation ----

__device__ __forceinline__ void moe_permute(const MoePermuteParams& p) {
  __shared__ int counts[kMoeMaxExperts];
  __shared__ int offs[kMoeMaxExperts + 1];
  __shared__ int cursor[kMoeMaxExperts];
  __shared__ int warpCount[kMoePermuteThreads / 32][kMoeMaxExperts];
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  constexpr int kWarps = kMoePermuteThreads / 32;
  const int E = p.numExperts;
  const int live = moe_live(p.liveRows, p.rows);
  const int pairs = live * p.k;
  for (int e = tid; e < E; e += kMoePermuteThreads) {
    counts[e] = 0;
    cursor[e] = 0;
  }
  __syncthreads();
  for (int i = tid; i < pairs; i += kMoePermuteThreads) {
    const int e = p.experts[i];
    if (static_cast<unsigned>(e) < static_cast<unsigned>(E)) atomicAdd(&counts[e], 1);
  }
  __syncthreads();
  const int cap = p.capacities == nullptr ? 0x7fffffff : p.capacities[live];
  if (warp == 0) {
    // Exclusive scan of the kept counts, 32 experts at a time; the experts that kept a row listed in
    // ascending id as they go by (a ballot's rank each).
    int carry = 0;
    int busyCarry = 0;
    for (int base = 0; base < E; base += 32) {
      const int e = base + lane;
      const int kept = e < E ? min(counts[e], cap) : 0;
      const unsigned busy = __ballot_sync(0xffffffffu, kept > 0);
      if (p.active != nullptr && kept > 0) p.active[1 + busyCarry + __popc(busy & ((1u << lane) - 1u))] = e;
      busyCarry += __popc(busy);
      int incl = kept;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const int up = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += up;
      }
      if (e < E) {
        offs[e] = carry + incl - kept;
        p.offsets[e] = carry + incl - kept;
        if (p.load != nullptr) {
          p.load[2 * e] = kept;
          p.load[2 * e + 1] = counts[e] - kept;
        }
      }
      carry += __shfl_sync(0xffffffffu, incl, 31);
    }
    if (lane == 0) {
      offs[E] = carry;
      p.offsets[E] = carry;
      if (p.active != nullptr) p.active[0] = busyCarry;
    }
  }
  __syncthreads();
  // Pairs in flat (token, slot) order, a CTA-wide chunk at a time: a pair's rank in its expert is
  // the expert's pairs in earlier chunks, in earlier warps of this chunk, and in lower lanes.
  const unsigned lower = (1u << lane) - 1u;
  for (int base = 0; base < pairs; base += kMoePermuteThreads) {
    for (int idx = tid; idx < kWarps * E; idx += kMoePermuteThreads) warpCount[idx / E][idx % E] = 0;
    __syncthreads();
    const int i = base + tid;
    int e = i < pairs ? p.experts[i] : -1;
    if (static_cast<unsigned>(e) >= static_cast<unsigned>(E)) e = -1;
    const unsigned same = __match_any_sync(0xffffffffu, e);
    const int rank = __popc(same & lower);
    if (e >= 0 && rank == 0) warpCount[warp][e] = __popc(same);
    __syncthreads();
    if (e >= 0) {
      int r = cursor[e] + rank;
      for (int w = 0; w < warp; w++) r += warpCount[w][e];
      if (r < cap) {
        const int row = offs[e] + r;
        p.rowOf[i] = row;
        p.tokenOf[row] = i / p.k;
      } else {
        p.rowOf[i] = -1;
      }
    } else if (i < pairs) {
      p.rowOf[i] = -1;
    }
    __syncthreads();
    for (int x = tid; x < E; x += kMoePermuteThreads) {
      int add = 0;
#pragma unroll
      for (int w = 0; w < kWarps; w++) add += warpCount[w][x];
      cursor[x] += add;
    }
    __syncthreads();
  }
}

// ---- grouped expert GEMMs ----

// Each warp owns 4 weight rows: GATED, 2 output columns (a gate row and its up row each); else 4
// output columns. Lanes split k in 16-byte vectors; up to kMoeGemmRows token rows share each
// weight vector loaded, so an expert's weights stream once per 8 of its rows (again from L2 past
// that, the tile being the CTA's own).
template <bool GATED>
__device__ __forceinline__ void moe_experts(const MoeExpertGemmParams& p) {
  int e = blockIdx.y;
  if (p.active != nullptr) {  // the grid's rows are the routed experts only
    if (e >= p.active[0]) return;
    e = p.active[1 + e];
  }
  const int first = p.offsets[e];
  const int count = p.offsets[e + 1] - first;
  if (count <= 0) return;
  constexpr int kCols = GATED ? 2 : 4;
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  const int col0 = (blockIdx.x * (kMoeGemmThreads / 32) + warp) * kCols;
  if (col0 >= p.n) return;
  const size_t expertRows = GATED ? 2 * static_cast<size_t>(p.n) : static_cast<size_t>(p.n);
  const bf16* we = p.w + static_cast<size_t>(e) * expertRows * p.k;
  const bf16* wr[4];
#pragma unroll
  for (int r = 0; r < 4; r++) {
    const int c = min(col0 + (GATED ? r >> 1 : r), p.n - 1);  // past n: a real row, result unused
    const size_t row = GATED && (r & 1) ? static_cast<size_t>(p.n) + c : static_cast<size_t>(c);
    wr[r] = we + row * p.k;
  }
  for (int r0 = 0; r0 < count; r0 += kMoeGemmRows) {
    const int rows = min(kMoeGemmRows, count - r0);
    const bf16* xr[kMoeGemmRows];
#pragma unroll
    for (int t = 0; t < kMoeGemmRows; t++) {
      const int row = first + r0 + min(t, rows - 1);
      const int src = GATED ? p.tokenOf[row] : row;
      xr[t] = p.x + static_cast<size_t>(src) * p.xStride;
    }
    float acc[4][kMoeGemmRows];
#pragma unroll
    for (int r = 0; r < 4; r++) {
#pragma unroll
      for (int t = 0; t < kMoeGemmRows; t++) acc[r][t] = 0.f;
    }
    for (int kk = lane * 8; kk < p.k; kk += 256) {
      float wf[4][8];
#pragma unroll
      for (int r = 0; r < 4; r++) unpack8(__ldg(reinterpret_cast<const uint4*>(wr[r] + kk)), wf[r]);
#pragma unroll
      for (int t = 0; t < kMoeGemmRows; t++) {
        if (t < rows) {
          float xf[8];
          unpack8(__ldg(reinterpret_cast<const uint4*>(xr[t] + kk)), xf);
#pragma unroll
          for (int r = 0; r < 4; r++) {
#pragma unroll
            for (int i = 0; i < 8; i++) acc[r][t] = fmaf(wf[r][i], xf[i], acc[r][t]);
          }
        }
      }
    }
    // The warp's 32 sums (4 weight rows x 8 token rows) by one reduce-scatter: lane r * 8 + t ends
    // with acc[r][t] summed over the lanes.
    static_assert(4 * kMoeGemmRows == 32, "one sum per lane");
    float v[32];
#pragma unroll
    for (int r = 0; r < 4; r++) {
#pragma unroll
      for (int t = 0; t < kMoeGemmRows; t++) v[r * kMoeGemmRows + t] = acc[r][t];
    }
    const float sum = warp_sum_scatter32(v);
    const int t = lane & (kMoeGemmRows - 1);
    if (GATED) {
      // Output column c of row t: its gate row's sum in lane 16c + t, its up row's in 16c + 8 + t.
      const float up = __shfl_xor_sync(0xffffffffu, sum, 8);
      const int c = lane >> 4;
      if (!(lane & 8) && t < rows && col0 + c < p.n) {
        const float v0 = sum / (1.f + __expf(-sum)) * up;
        p.out[static_cast<size_t>(first + r0 + t) * p.n + col0 + c] = __float2bfloat16_rn(v0);
      }
    } else {
      const int c = lane >> 3;  // output column c of row t
      if (t < rows && col0 + c < p.n) {
        p.out[static_cast<size_t>(first + r0 + t) * p.n + col0 + c] = __float2bfloat16_rn(sum);
      }
    }
  }
}

// ---- combine ----

__device__ __forceinline__ void moe_combine(const MoeCombineParams& p) {
  const int t = blockIdx.y;
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= (p.hidden >> 3)) return;
  float acc[8];
#pragma unroll
  for (int i = 0; i < 8; i++) acc[i] = 0.f;
  if (t < moe_live(p.liveRows, p.rows)) {
    for (int j = 0; j < p.k; j++) {
      const int row = p.rowOf[static_cast<size_t>(t) * p.k + j];
      if (row < 0) continue;
      if (p.experts != nullptr) {
        const int e = p.experts[static_cast<size_t>(t) * p.k + j];
        if (e < p.expertLo || e >= p.expertHi) continue;  // another rank's expert: its partial holds it
      }
      const float w = p.weights[static_cast<size_t>(t) * p.k + j];
      float y[8];
      unpack8(*reinterpret_cast<const uint4*>(p.y + static_cast<size_t>(row) * p.hidden + v * 8), y);
#pragma unroll
      for (int i = 0; i < 8; i++) acc[i] += w * y[i];
    }
  }
  if (p.outF32) {
    float4* o = reinterpret_cast<float4*>(static_cast<float*>(p.out) + static_cast<size_t>(t) * p.hidden + v * 8);
    o[0] = make_float4(acc[0], acc[1], acc[2], acc[3]);
    o[1] = make_float4(acc[4], acc[5], acc[6], acc[7]);
  } else {
    *reinterpret_cast<uint4*>(static_cast<bf16*>(p.out) + static_cast<size_t>(t) * p.hidden + v * 8) = pack8(acc);
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kMoeRouteThreads)
    df_moe_route(const __grid_constant__ MoeRouteParams p) {
  df::pdl_entry();
  const int row = blockIdx.x * (df::kMoeRouteThreads / 32) + (threadIdx.x >> 5);
  if (row >= df::moe_live(p.liveRows, p.rows) || (p.skip != nullptr && *p.skip != 0)) return;
  df::moe_route_row(p, row);
}

extern "C" __global__ void __launch_bounds__(df::kMoePermuteThreads)
    df_moe_permute(const __grid_constant__ MoePermuteParams p) {
  df::pdl_entry();
  df::moe_permute(p);
}

extern "C" __global__ void __launch_bounds__(df::kMoeGemmThreads, df::kMoeGemmMinBlocks)
    df_moe_experts_gate_up(const __grid_constant__ MoeExpertGemmParams p) {
  df::pdl_entry();
  df::moe_experts<true>(p);
}

extern "C" __global__ void __launch_bounds__(df::kMoeGemmThreads, df::kMoeGemmMinBlocks)
    df_moe_experts_down(const __grid_constant__ MoeExpertGemmParams p) {
  df::pdl_entry();
  df::moe_experts<false>(p);
}

extern "C" __global__ void __launch_bounds__(df::kMoeCombineThreads)
    df_moe_combine(const __grid_constant__ MoeCombineParams p) {
  df::pdl_entry();
  df::moe_combine(p);
}
