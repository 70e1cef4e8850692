// FP8 (e4m3 x e4m3 -> bf16) cuBLASLt with outer-vector scales, against bf16 cuBLASLt, on the
// llama3-8b projections. Prints the enum values the shim needs, checks a few outputs, times.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cuda_fp8.h>
#include <cuda_bf16.h>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cmath>

#define CK(x) do { auto s_ = (x); if (s_ != 0) { printf("FAIL %s:%d %s -> %d\n", __FILE__, __LINE__, #x, (int)s_); exit(1);} } while (0)

static cublasLtHandle_t lt;
static void *wsp; static size_t wsBytes = 64 << 20;

struct Res { int algos; float best; float first; };

static Res timeGemm(bool fp8, int m, int n, int k, bool outerVec, int fastAccum, void **wCopies, int nCopies, void *x, void *y,
                    float *wScale, float *xScale) {
  cublasLtMatmulDesc_t d; CK(cublasLtMatmulDescCreate(&d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  cublasOperation_t t = CUBLAS_OP_T, nn = CUBLAS_OP_N;
  CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
  CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSB, &nn, sizeof nn));
  cudaDataType_t ab = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
  if (fp8) {
    cublasLtMatmulMatrixScale_t mode = outerVec ? CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F : CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F;
    CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &mode, sizeof mode));
    CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &mode, sizeof mode));
    CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &wScale, sizeof wScale));
    CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &xScale, sizeof xScale));
    int8_t fa = (int8_t)fastAccum;
    CK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fa, sizeof fa));
  }
  cublasLtMatrixLayout_t lw, lx, ly;
  CK(cublasLtMatrixLayoutCreate(&lw, ab, k, n, k));
  CK(cublasLtMatrixLayoutCreate(&lx, ab, k, m, k));
  CK(cublasLtMatrixLayoutCreate(&ly, CUDA_R_16BF, n, m, n));
  cublasLtMatmulPreference_t p; CK(cublasLtMatmulPreferenceCreate(&p));
  CK(cublasLtMatmulPreferenceSetAttribute(p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsBytes, sizeof wsBytes));
  cublasLtMatmulHeuristicResult_t h[8]; int ret = 0;
  cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(lt, d, lw, lx, ly, ly, p, 8, h, &ret);
  Res r{0, 1e30f, 1e30f};
  if (hs != CUBLAS_STATUS_SUCCESS || ret == 0) { printf("    heuristic status %d, %d algos\n", (int)hs, ret); return r; }
  r.algos = ret;
  float alpha = 1.f, beta = 0.f;
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  for (int a = 0; a < ret; a++) {
    for (int i = 0; i < 3; i++) CK(cublasLtMatmul(lt, d, &alpha, wCopies[i % nCopies], lw, x, lx, &beta, y, ly, y, ly, &h[a].algo, wsp, wsBytes, 0));
    std::vector<float> ts;
    for (int rep = 0; rep < 5; rep++) {
      cudaEventRecord(e0);
      for (int i = 0; i < 20; i++)
        CK(cublasLtMatmul(lt, d, &alpha, wCopies[i % nCopies], lw, x, lx, &beta, y, ly, y, ly, &h[a].algo, wsp, wsBytes, 0));
      cudaEventRecord(e1); cudaEventSynchronize(e1);
      float ms; cudaEventElapsedTime(&ms, e0, e1); ts.push_back(ms * 1000 / 20);
    }
    std::sort(ts.begin(), ts.end());
    float med = ts[ts.size() / 2];
    if (a == 0) r.first = med;
    r.best = std::min(r.best, med);
  }
  CK(cudaGetLastError());
  cublasLtMatmulPreferenceDestroy(p); cublasLtMatrixLayoutDestroy(lw); cublasLtMatrixLayoutDestroy(lx);
  cublasLtMatrixLayoutDestroy(ly); cublasLtMatmulDescDestroy(d);
  return r;
}

__global__ void fill(unsigned char *p, size_t n, unsigned seed, int fp8) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed; h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15;
    float v = ((h & 0xffff) / 65536.0f - 0.5f) * 2.0f;
    if (fp8) { __nv_fp8_e4m3 c(v * 100.f); p[i] = *(unsigned char *)&c; }
    else { __nv_bfloat16 b = __float2bfloat16(v); ((__nv_bfloat16 *)p)[i / 2] = b; }
  }
}

int main() {
  printf("cublasLt version %zu\n", cublasLtGetVersion());
  printf("enum A_SCALE_POINTER=%d B_SCALE_POINTER=%d A_SCALE_MODE=%d B_SCALE_MODE=%d FAST_ACCUM=%d OUTER_VEC_32F=%d SCALAR_32F=%d R_8F_E4M3=%d\n",
         (int)CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, (int)CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
         (int)CUBLASLT_MATMUL_DESC_A_SCALE_MODE, (int)CUBLASLT_MATMUL_DESC_B_SCALE_MODE,
         (int)CUBLASLT_MATMUL_DESC_FAST_ACCUM, (int)CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F,
         (int)CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, (int)CUDA_R_8F_E4M3);
  CK(cublasLtCreate(&lt));
  CK(cudaMalloc(&wsp, wsBytes));
  // correctness of the scale semantics on a small shape: D[j][i] = sw[j] * sx[i] * sum_k w[j][k] x[i][k]
  {
    int m = 3, n = 64, k = 128;
    std::vector<unsigned char> hw(n * k), hx(m * k);
    std::vector<float> sw(n), sx(m);
    for (int i = 0; i < n * k; i++) { __nv_fp8_e4m3 c((float)((i * 7) % 17 - 8) * 0.5f); hw[i] = *(unsigned char *)&c; }
    for (int i = 0; i < m * k; i++) { __nv_fp8_e4m3 c((float)((i * 5) % 13 - 6) * 0.25f); hx[i] = *(unsigned char *)&c; }
    for (int j = 0; j < n; j++) sw[j] = 0.01f * (j + 1);
    for (int i = 0; i < m; i++) sx[i] = 0.5f + i;
    void *dw, *dx, *dy; float *dsw, *dsx;
    cudaMalloc(&dw, n * k); cudaMalloc(&dx, m * k); cudaMalloc(&dy, n * m * 2); cudaMalloc(&dsw, n * 4); cudaMalloc(&dsx, m * 4);
    cudaMemcpy(dw, hw.data(), n * k, cudaMemcpyHostToDevice); cudaMemcpy(dx, hx.data(), m * k, cudaMemcpyHostToDevice);
    cudaMemcpy(dsw, sw.data(), n * 4, cudaMemcpyHostToDevice); cudaMemcpy(dsx, sx.data(), m * 4, cudaMemcpyHostToDevice);
    void *copies[1] = {dw};
    Res r = timeGemm(true, m, n, k, true, 0, copies, 1, dx, dy, dsw, dsx);
    std::vector<__nv_bfloat16> hy(n * m); cudaMemcpy(hy.data(), dy, n * m * 2, cudaMemcpyDeviceToHost);
    double worst = 0;
    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
      double s = 0;
      for (int q = 0; q < k; q++) s += (double)(float)*(__nv_fp8_e4m3 *)&hw[j * k + q] * (float)*(__nv_fp8_e4m3 *)&hx[i * k + q];
      s *= (double)sw[j] * sx[i];
      double g = __bfloat162float(hy[i * n + j]);
      worst = std::max(worst, std::fabs(g - s) / std::max(1e-3, std::fabs(s)));
    }
    printf("outer-vec check m=%d n=%d k=%d: %d algos, worst rel err %.3e (bf16 rounding ~4e-3)\n", m, n, k, r.algos, worst);
  }
  int shapes[4][2] = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}};
  int ms[] = {1, 8, 16, 32, 64, 128, 256, 512, 2048};
  int maxM = 2048;
  void *x8, *x16, *y; float *sw, *sx;
  CK(cudaMalloc(&x8, (size_t)maxM * 14336)); CK(cudaMalloc(&x16, (size_t)maxM * 14336 * 2)); CK(cudaMalloc(&y, (size_t)maxM * 28672 * 2));
  CK(cudaMalloc(&sw, 28672 * 4)); CK(cudaMalloc(&sx, maxM * 4));
  fill<<<1024, 256>>>((unsigned char *)x8, (size_t)maxM * 14336, 7, 1);
  fill<<<1024, 256>>>((unsigned char *)x16, (size_t)maxM * 14336 * 2, 9, 0);
  std::vector<float> ones(28672, 0.01f); cudaMemcpy(sw, ones.data(), 28672 * 4, cudaMemcpyHostToDevice); cudaMemcpy(sx, ones.data(), maxM * 4, cudaMemcpyHostToDevice);
  printf("%-14s %5s | %-30s | %-30s | %-30s | %-30s\n", "n x k", "m", "fp8 outer-vec", "fp8 outer-vec fastacc", "fp8 scalar", "bf16");
  for (auto &s : shapes) {
    int n = s[0], k = s[1];
    size_t b8 = (size_t)n * k, b16 = b8 * 2;
    int c8 = (int)std::max<size_t>(2, (256ull << 20) / b8 + 1), c16 = (int)std::max<size_t>(2, (256ull << 20) / b16 + 1);
    std::vector<void *> w8(c8), w16(c16);
    for (auto &p : w8) { CK(cudaMalloc(&p, b8)); fill<<<1024, 256>>>((unsigned char *)p, b8, 3, 1); }
    for (auto &p : w16) { CK(cudaMalloc(&p, b16)); fill<<<1024, 256>>>((unsigned char *)p, b16, 5, 0); }
    CK(cudaDeviceSynchronize());
    for (int m : ms) {
      Res a = timeGemm(true, m, n, k, true, 0, w8.data(), c8, x8, y, sw, sx);
      Res f = timeGemm(true, m, n, k, true, 1, w8.data(), c8, x8, y, sw, sx);
      Res c = timeGemm(true, m, n, k, false, 0, w8.data(), c8, x8, y, sw, sx);
      Res b = timeGemm(false, m, n, k, false, 0, w16.data(), c16, x16, y, nullptr, nullptr);
      auto fmt = [&](Res r, size_t wb) { static char buf[4][64]; static int z = 0; z = (z + 1) % 4;
        if (!r.algos) snprintf(buf[z], 64, "none"); else snprintf(buf[z], 64, "%6.1f/%6.1f %4.2fTB/s %4.0fTF", r.first, r.best, wb / r.first / 1e6, 2.0 * m * n * k / r.first / 1e6);
        return buf[z]; };
      printf("%6d x %-6d %5d | %-30s | %-30s | %-30s | %-30s\n", n, k, m, fmt(a, b8), fmt(f, b8), fmt(c, b8), fmt(b, b16));
      fflush(stdout);
    }
    for (auto p : w8) cudaFree(p);
    for (auto p : w16) cudaFree(p);
  }
  return 0;
}
