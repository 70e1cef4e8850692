// KV pack / unpack: moves one sequence's pages of a paged KV cache to and from one contiguous
// buffer, so that a transfer (NCCL send/recv, a copy to the host) is a single contiguous region.
//
//   pack:    packed[0, i] = kCache[pages[i]], packed[1, i] = vCache[pages[i]]   (i < numPages)
//   unpack:  the reverse scatter.
// Variants: df_kv_pack, df_kv_unpack (same parameters).
// Layouts: kCache, vCache (numBlocks, blockSize, kvHeads, headDim) bf16; pages (numPages) int32,
// the sequence's block table; packed (2, numPages, blockSize, kvHeads, headDim) bf16 (all K pages,
// then all V pages). pageElems = blockSize * kvHeads * headDim is a multiple of 8.
// Grid: (numPages, 2): y = 0 moves K, y = 1 moves V; block: 256 threads.
#include "common.cuh"

struct KvPackParams {
  bf16* packed;          // (2, numPages, blockSize, kvHeads, headDim) bf16
  bf16* kCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16
  bf16* vCache;          // (numBlocks, blockSize, kvHeads, headDim) bf16
  const int* pages;      // (numPages) int32
  int numPages;
  int pageElems;         // blockSize * kvHeads * headDim
};
DF_PARAMS_SIZE(KvPackParams, 40);

namespace df {

constexpr int kKvPackThreads = 256;

template <bool kPack>
__device__ __forceinline__ void move_page(const KvPackParams& p) {
  const int i = blockIdx.x;
  const bool isV = blockIdx.y == 1;
  const size_t pageElems = static_cast<size_t>(p.pageElems);
  bf16* cache = (isV ? p.vCache : p.kCache) + static_cast<size_t>(p.pages[i]) * pageElems;
  bf16* packed = p.packed + (static_cast<size_t>(isV ? p.numPages : 0) + i) * pageElems;
  uint4* dst = reinterpret_cast<uint4*>(kPack ? packed : cache);
  const uint4* src = reinterpret_cast<const uint4*>(kPack ? cache : packed);
  const int vectors = p.pageElems >> 3;
  for (int v = threadIdx.x; v < vectors; v += blockDim.x) dst[v] = ld_stream(src + v);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kKvPackThreads)
    df_kv_pack(const __grid_constant__ KvPackParams p) {
  df::pdl_entry();
  df::move_page<true>(p);
}

extern "C" __global__ void __launch_bounds__(df::kKvPackThreads)
    df_kv_unpack(const __grid_constant__ KvPackParams p) {
  df::pdl_entry();
  df::move_page<false>(p);
}
