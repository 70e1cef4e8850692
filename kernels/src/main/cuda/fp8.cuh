// FP8 e4m3fn helpers shared by the FP8 kernels (fp8_gemm.cu, rope_kv.cu, decode_attention.cu,
// fp8_quantize.cu): exact decoding through half (every e4m3 value is a half and a bf16), and
// encoding as the CPU reference io.decodefleet.kernels.reference.Fp8E4m3 does: round to nearest
// even, saturating at +-448, NaN to 0x7f.
#pragma once

#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "common.cuh"

namespace df {

// Two e4m3 codes (low byte first) to two floats, exactly: every e4m3 value is a half.
__device__ __forceinline__ float2 fp8x2_to_float2(uint16_t codes) {
  const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(codes), __NV_E4M3);
  return __half22float2(*reinterpret_cast<const __half2*>(&h));
}

// Sixteen codes (one 16-byte vector) to floats, element 0 from the lowest byte.
__device__ __forceinline__ void unpack_fp8x16(const uint4& v, float (&f)[16]) {
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float2 lo = fp8x2_to_float2(static_cast<uint16_t>(words[i] & 0xffffu));
    const float2 hi = fp8x2_to_float2(static_cast<uint16_t>(words[i] >> 16));
    f[4 * i] = lo.x;
    f[4 * i + 1] = lo.y;
    f[4 * i + 2] = hi.x;
    f[4 * i + 3] = hi.y;
  }
}

// Four codes (one 32-bit word) to two bf16x2 words (codes 0, 1 then 2, 3), exactly, without the
// conversion unit. The hardware path (e4m3x2 to half2, each half to float, two floats to bf16x2)
// spends eight conversions on four codes, and conversions issue at a quarter of the integer rate:
// the FP8 GEMMs and the FP8 attention were bound by them, not by their bytes. Here a code's seven
// magnitude bits go to bits 10..4 of a bf16 and its sign to bit 15: exponent field E and mantissa
// mmm0000, which is the code's value times 2^-120 for normal codes (2^(E-127) * 1.mmm) and subnormal
// ones (E = 0: 0.mmm * 2^-126) alike; one bf16x2 multiply by 2^120 (exact, subnormal inputs kept)
// restores it. The one difference from the hardware path: the NaN codes (0x7f, 0xff) widen to
// +-480, not NaN. Weights quantized here or loaded from a checkpoint and KV written by the kernels
// here hold a NaN code only for a NaN input. The self-test's rows of subnormal codes only would
// catch a multiply that flushed its subnormal inputs.
__device__ __forceinline__ uint2 fp8x4_to_bf16x4(uint32_t w) {
  const uint32_t even = ((w << 4) & 0x07f007f0u) | ((w << 8) & 0x80008000u);  // codes 0 and 2
  const uint32_t odd = ((w >> 4) & 0x07f007f0u) | (w & 0x80008000u);         // codes 1 and 3
  const uint32_t lo = __byte_perm(even, odd, 0x5410);
  const uint32_t hi = __byte_perm(even, odd, 0x7632);
  constexpr uint32_t kTwoTo120 = 0x7b807b80u;  // bf16x2 (2^120, 2^120)
  uint32_t a, b;
  asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(a) : "r"(lo), "r"(kTwoTo120));
  asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(b) : "r"(hi), "r"(kTwoTo120));
  return make_uint2(a, b);
}

__device__ __forceinline__ float fp8_decode(uint8_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), __NV_E4M3);
  return __half2float(*reinterpret_cast<const __half*>(&h));
}

// The code of x / scale (a correctly rounded division, as the Java reference divides).
__device__ __forceinline__ uint8_t fp8_encode(float x, float scale) {
  return static_cast<uint8_t>(__nv_cvt_float_to_fp8(__fdiv_rn(x, scale), __NV_SATFINITE, __NV_E4M3));
}

// fp8-dynamic's scale of a row whose largest magnitude is amax: amax / 448, 1 for a row of zeros
// (Fp8E4m3.quantizeRows).
__device__ __forceinline__ float fp8_row_scale(float amax) {
  return amax == 0.f ? 1.f : __fdiv_rn(amax, 448.f);
}

// The larger of m and the largest magnitude of a packed vector of eight bf16.
__device__ __forceinline__ float amax8(uint4 packed, float m) {
  float f[8];
  unpack8(packed, f);
#pragma unroll
  for (int e = 0; e < 8; e++) m = fmaxf(m, fabsf(f[e]));
  return m;
}

// Eight floats to eight codes of x / scale, element 0 in the lowest byte.
__device__ __forceinline__ uint2 fp8_encode8(const float (&f)[8], float scale) {
  uint32_t w[2] = {0u, 0u};
#pragma unroll
  for (int i = 0; i < 8; i++) w[i >> 2] |= static_cast<uint32_t>(fp8_encode(f[i], scale)) << (8 * (i & 3));
  return make_uint2(w[0], w[1]);
}

// Eight floats to eight codes of x / scale (element 0 in the lowest byte); `widened` receives
// each code's value times the scale, rounded to bf16: what a reader of the cache will see.
__device__ __forceinline__ uint2 fp8_encode8(const float (&f)[8], float scale, float (&widened)[8]) {
  uint32_t w[2] = {0u, 0u};
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const uint8_t c = fp8_encode(f[i], scale);
    widened[i] = fp8_decode(c) * scale;
    w[i >> 2] |= static_cast<uint32_t>(c) << (8 * (i & 3));
  }
  return make_uint2(w[0], w[1]);
}

// fp8-dynamic's codes of a row its CTA holds in registers as bf16 vectors (a kernel that wrote the row quantizes it
// for the projection after it): a thread's v[i] is the row's vector threadIdx.x + i * stride, the row's only below
// `vectors`. The row's largest magnitude over the CTA, its scale s into *scale (thread 0), codes e4m3(v / s).
template <int N>
__device__ __forceinline__ void fp8_codes_of_held_row(const uint4 (&v)[N], int vectors, int stride, float* scratch,
                                                      float* scale, uint2* codes) {
  float amax = 0.f;
#pragma unroll
  for (int i = 0; i < N; i++) {
    if (threadIdx.x + i * stride < vectors) amax = amax8(v[i], amax);
  }
  const float s = fp8_row_scale(block_max(amax, scratch));
  if (threadIdx.x == 0) *scale = s;
#pragma unroll
  for (int i = 0; i < N; i++) {
    const int idx = threadIdx.x + i * stride;
    if (idx < vectors) {
      float f[8];
      unpack8(v[i], f);
      codes[idx] = fp8_encode8(f, s);
    }
  }
}

}  // namespace df
