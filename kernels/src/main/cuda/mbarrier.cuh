#pragma once
// The mbarrier operations of the kernels that pipeline copies into shared memory through a ring of
// stages (wgmma_gemm.cu: TMA tiles; skinny2_gemm.cu: bulk row copies). Plain sm_90 PTX, so every
// fatbin target (sm_90a, sm_100a, compute_90) has them.
#include <stdint.h>

namespace df {
namespace mbar {

__device__ __forceinline__ void init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}

// The producer's arrive, announcing the bytes the stage's copies will deliver.
__device__ __forceinline__ void arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}

// Waits until the barrier's phase of parity `parity` has completed (a fresh barrier is in phase
// 0, so waiting for parity 1 passes at once).
__device__ __forceinline__ void wait(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_%=;\n"
      "}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

}  // namespace mbar
}  // namespace df
