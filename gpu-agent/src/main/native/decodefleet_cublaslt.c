/*
 * decodefleet_cublaslt.c: the JNI shim under io.decodefleet.agent.cublas.CublasLt.
 *
 * cuBLASLt is opened at run time with dlopen ("libcublasLt.so.13", else "libcublasLt.so.12", or a
 * path the Java side names), so building this file needs neither cuBLAS headers nor the library:
 * the few types used are declared below with cuBLASLt's ABI (descriptors and the handle are
 * pointers, enums are int-sized, an algorithm is 64 opaque bytes).
 *
 * One GEMM form is offered, the one every projection of the model is: y[m, n] = x[m, k] · w[n, k]ᵀ
 * with row-major bf16 x and w, float32 accumulation, and y in bf16 or float32 with a row stride;
 * and its FP8 variant (planGemmFp8, gemmFp8): x and w e4m3 codes, y[i, j] = xs[i] · ws[j] · Σ x·w
 * with a float32 scale per row of x and per row of w (cuBLASLt's outer-vector scaling, CUDA 12.9 on).
 * In cuBLAS's column-major terms that is yᵀ (n × m, ld = stride) = op(w) · xᵀ with w seen as a
 * k × n matrix transposed ("TN"). A plan holds the descriptors and the heuristic's candidate
 * algorithms for one shape; launches name a plan and one of its algorithms, so nothing is looked
 * up while a CUDA graph is being captured.
 *
 * Each entry point returns cuBLAS's status unchanged (0 = success); the Java side is the one place
 * where a status becomes an exception. Arguments that can never be valid (null handles or device
 * pointers, sizes below 1, an algorithm index out of range) throw IllegalArgumentException here,
 * naming the function and the parameter; a call before the library was loaded throws
 * IllegalStateException.
 */
#include "decodefleet_jni.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cuBLASLt's ABI, declared here --------------------------------------------------------- */

typedef int lt_status_t; /* cublasStatus_t */
enum { LT_SUCCESS = 0 };
typedef void *lt_handle_t;
typedef void *lt_desc_t;
typedef void *lt_layout_t;
typedef void *lt_pref_t;
typedef void *cuda_stream_t;

enum { R_32F = 0, R_16BF = 14, R_8F_E4M3 = 28 }; /* cudaDataType_t */
enum { COMPUTE_32F = 68 };                       /* cublasComputeType_t */
enum { OP_N = 0, OP_T = 1 };                     /* cublasOperation_t */
enum {                                           /* cublasLtMatmulDescAttributes_t */
  DESC_TRANSA = 3,
  DESC_TRANSB = 4,
  DESC_A_SCALE_POINTER = 17,
  DESC_B_SCALE_POINTER = 18,
  DESC_A_SCALE_MODE = 31,
  DESC_B_SCALE_MODE = 32
};
enum { SCALE_OUTER_VEC_32F = 3 };                /* cublasLtMatmulMatrixScale_t */
enum { PREF_MAX_WORKSPACE_BYTES = 1 };      /* cublasLtMatmulPreferenceAttributes_t */

typedef struct { uint64_t data[8]; } lt_algo_t; /* cublasLtMatmulAlgo_t */
typedef struct {                                 /* cublasLtMatmulHeuristicResult_t */
  lt_algo_t algo;
  size_t workspace_size;
  lt_status_t state;
  float waves_count;
  int reserved[4];
} lt_heuristic_t;
_Static_assert(sizeof(lt_algo_t) == 64, "cublasLtMatmulAlgo_t is 64 bytes");
_Static_assert(sizeof(lt_heuristic_t) == 96, "cublasLtMatmulHeuristicResult_t is 96 bytes");

#define MAX_ALGOS 16

/* ---- the library, resolved once ----------------------------------------------------------- */

static struct {
  void *handle;
  size_t (*get_version)(void);
  lt_status_t (*create)(lt_handle_t *);
  lt_status_t (*destroy)(lt_handle_t);
  lt_status_t (*desc_create)(lt_desc_t *, int compute_type, int scale_type);
  lt_status_t (*desc_set)(lt_desc_t, int attribute, const void *buf, size_t size);
  lt_status_t (*desc_destroy)(lt_desc_t);
  lt_status_t (*layout_create)(lt_layout_t *, int type, uint64_t rows, uint64_t cols, int64_t ld);
  lt_status_t (*layout_destroy)(lt_layout_t);
  lt_status_t (*pref_create)(lt_pref_t *);
  lt_status_t (*pref_set)(lt_pref_t, int attribute, const void *buf, size_t size);
  lt_status_t (*pref_destroy)(lt_pref_t);
  lt_status_t (*heuristic)(lt_handle_t, lt_desc_t, lt_layout_t, lt_layout_t, lt_layout_t, lt_layout_t,
                           lt_pref_t, int requested, lt_heuristic_t *results, int *returned);
  lt_status_t (*matmul)(lt_handle_t, lt_desc_t, const void *alpha, const void *a, lt_layout_t,
                        const void *b, lt_layout_t, const void *beta, const void *c, lt_layout_t, void *d,
                        lt_layout_t, const lt_algo_t *, void *workspace, size_t workspace_size,
                        cuda_stream_t);
  const char *(*status_string)(lt_status_t);
  const char *(*status_name)(lt_status_t);
} lt;

/* One GEMM shape: its descriptors and the heuristic's candidates, best first. */
typedef struct {
  lt_desc_t desc;
  lt_layout_t w;   /* k × n, ld k: the weights, transposed by the op */
  lt_layout_t x;   /* k × m, ld k: the activations */
  lt_layout_t y;   /* n × m, ld stride: the output */
  int count;
  int fp8; /* e4m3 operands, outer-vector scales set at each launch */
  lt_heuristic_t algos[MAX_ALGOS];
} plan_t;

#define REQUIRE_LOADED(function) REQUIRE_LOADED_LIBRARY(lt.handle, "cuBLASLt", function)

/* Opens cuBLASLt and resolves its entry points; returns "" or one line saying what failed. */
JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_cublas_CublasLt_loadLibrary(JNIEnv *env, jclass cls,
                                                                                jstring library) {
  (void)cls;
  if (library != NULL && lt.handle != NULL) {
    return (*env)->NewStringUTF(env, "");
  }
  const char *path = library_path(env, library);
  if (path == NULL) {
    return NULL;
  }
  char result[1024] = "";
  void *handle = open_library(path, result, sizeof result);
  if (handle != NULL) {
    char missing[512] = "";
    *(void **)&lt.get_version = resolve(handle, "cublasLtGetVersion", missing, sizeof missing);
    *(void **)&lt.create = resolve(handle, "cublasLtCreate", missing, sizeof missing);
    *(void **)&lt.destroy = resolve(handle, "cublasLtDestroy", missing, sizeof missing);
    *(void **)&lt.desc_create = resolve(handle, "cublasLtMatmulDescCreate", missing, sizeof missing);
    *(void **)&lt.desc_set = resolve(handle, "cublasLtMatmulDescSetAttribute", missing, sizeof missing);
    *(void **)&lt.desc_destroy = resolve(handle, "cublasLtMatmulDescDestroy", missing, sizeof missing);
    *(void **)&lt.layout_create = resolve(handle, "cublasLtMatrixLayoutCreate", missing, sizeof missing);
    *(void **)&lt.layout_destroy = resolve(handle, "cublasLtMatrixLayoutDestroy", missing, sizeof missing);
    *(void **)&lt.pref_create = resolve(handle, "cublasLtMatmulPreferenceCreate", missing, sizeof missing);
    *(void **)&lt.pref_set = resolve(handle, "cublasLtMatmulPreferenceSetAttribute", missing, sizeof missing);
    *(void **)&lt.pref_destroy = resolve(handle, "cublasLtMatmulPreferenceDestroy", missing, sizeof missing);
    *(void **)&lt.heuristic = resolve(handle, "cublasLtMatmulAlgoGetHeuristic", missing, sizeof missing);
    *(void **)&lt.matmul = resolve(handle, "cublasLtMatmul", missing, sizeof missing);
    if (missing[0] != '\0') {
      snprintf(result, sizeof result, "%s lacks a symbol the shim needs: %s", path, missing);
      dlclose(handle);
      memset(&lt, 0, sizeof lt);
    } else {
      /* Optional: present since cuBLAS 11.4; without them statuses are shown as numbers. */
      *(void **)&lt.status_string = dlsym(handle, "cublasLtGetStatusString");
      *(void **)&lt.status_name = dlsym(handle, "cublasLtGetStatusName");
      dlerror();
      lt.handle = handle;
    }
  }
  (*env)->ReleaseStringUTFChars(env, library, path);
  return (*env)->NewStringUTF(env, result);
}

/* cuBLASLt's version as major*10000 + minor*100 + patch (e.g. 130000), or a negative status. */
JNIEXPORT jlong JNICALL Java_io_decodefleet_agent_cublas_CublasLt_cublasLtGetVersion(JNIEnv *env, jclass cls) {
  (void)cls;
  REQUIRE_LOADED("cublasLtGetVersion");
  return (jlong)lt.get_version();
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_cublasLtCreate(JNIEnv *env, jclass cls,
                                                                                jlongArray out) {
  (void)cls;
  REQUIRE_LOADED("cublasLtCreate");
  if (!check_out_length(env, "cublasLtCreate", "out", out, 1)) return THROWN;
  lt_handle_t handle = NULL;
  lt_status_t status = lt.create(&handle);
  jlong value = (jlong)(intptr_t)handle;
  (*env)->SetLongArrayRegion(env, out, 0, 1, &value);
  return status;
}

JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_cublasLtDestroy(JNIEnv *env, jclass cls,
                                                                                 jlong handle) {
  (void)cls;
  REQUIRE_LOADED("cublasLtDestroy");
  REQUIRE(handle != 0, "cublasLtDestroy", "handle", "must not be null", handle);
  return lt.destroy((lt_handle_t)(intptr_t)handle);
}

static void plan_free(plan_t *p) {
  if (p->y != NULL) lt.layout_destroy(p->y);
  if (p->x != NULL) lt.layout_destroy(p->x);
  if (p->w != NULL) lt.layout_destroy(p->w);
  if (p->desc != NULL) lt.desc_destroy(p->desc);
  free(p);
}

/*
 * Makes a plan (bf16, or FP8 with outer-vector scales) and asks the heuristic for up to `requested`
 * algorithms that need at most `max_workspace` bytes. out[0] = the plan, out[1] = how many
 * algorithms it holds (0: the shape is not supported here; the plan is then not made).
 */
static jint plan_gemm(JNIEnv *env, const char *fn, jlong handle, jint m, jint n, jint k, jint stride,
                      jboolean out_float, jboolean fp8, jlong max_workspace, jint requested, jlongArray out) {
  REQUIRE(handle != 0, fn, "handle", "must not be null", handle);
  REQUIRE(m >= 1, fn, "m", "must be at least 1", m);
  REQUIRE(n >= 1, fn, "n", "must be at least 1", n);
  REQUIRE(k >= 1, fn, "k", "must be at least 1", k);
  REQUIRE(!fp8 || k % 16 == 0, fn, "k", "must be a multiple of 16 for FP8", k);
  REQUIRE(stride >= n, fn, "stride", "must be at least n", stride);
  REQUIRE(max_workspace >= 0, fn, "maxWorkspace", "must not be negative", max_workspace);
  REQUIRE(requested >= 1 && requested <= MAX_ALGOS, fn, "requested", "must be in 1..16", requested);
  if (!check_out_length(env, fn, "out", out, 2)) return THROWN;

  plan_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    throw_new(env, "java/lang/OutOfMemoryError", "planGemm: no host memory for a plan");
    return THROWN;
  }
  int in_type = fp8 ? R_8F_E4M3 : R_16BF;
  lt_status_t s = lt.desc_create(&p->desc, COMPUTE_32F, R_32F);
  int op_t = OP_T, op_n = OP_N;
  if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_TRANSA, &op_t, sizeof op_t);
  if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_TRANSB, &op_n, sizeof op_n);
  if (fp8) {
    /* The heuristic refuses scaled operands without scale pointers but does not read them: an
       aligned placeholder serves until gemmFp8 sets the launch's own. */
    int mode = SCALE_OUTER_VEC_32F;
    const void *placeholder = (const void *)(uintptr_t)0x10000;
    if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_A_SCALE_MODE, &mode, sizeof mode);
    if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_B_SCALE_MODE, &mode, sizeof mode);
    if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_A_SCALE_POINTER, &placeholder, sizeof placeholder);
    if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_B_SCALE_POINTER, &placeholder, sizeof placeholder);
  }
  if (s == LT_SUCCESS) s = lt.layout_create(&p->w, in_type, (uint64_t)k, (uint64_t)n, k);
  if (s == LT_SUCCESS) s = lt.layout_create(&p->x, in_type, (uint64_t)k, (uint64_t)m, k);
  if (s == LT_SUCCESS) s = lt.layout_create(&p->y, out_float ? R_32F : R_16BF, (uint64_t)n, (uint64_t)m, stride);
  lt_pref_t pref = NULL;
  if (s == LT_SUCCESS) s = lt.pref_create(&pref);
  uint64_t ws = (uint64_t)max_workspace;
  if (s == LT_SUCCESS) s = lt.pref_set(pref, PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  int returned = 0;
  if (s == LT_SUCCESS) {
    s = lt.heuristic((lt_handle_t)(intptr_t)handle, p->desc, p->w, p->x, p->y, p->y, pref, requested, p->algos,
                     &returned);
  }
  if (pref != NULL) lt.pref_destroy(pref);
  jlong values[2] = {0, 0};
  if (s == LT_SUCCESS && returned > 0) {
    p->count = returned;
    p->fp8 = fp8 ? 1 : 0;
    values[0] = (jlong)(intptr_t)p;
    values[1] = returned;
  } else {
    plan_free(p);
  }
  (*env)->SetLongArrayRegion(env, out, 0, 2, values);
  return s;
}

/*
 * Plans y[m, n] = x[m, k] · w[n, k]ᵀ (bf16 in, float32 accumulate; y bf16, or float32 when
 * out_float, with rows `stride` elements apart).
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_planGemm(
    JNIEnv *env, jclass cls, jlong handle, jint m, jint n, jint k, jint stride, jboolean out_float,
    jlong max_workspace, jint requested, jlongArray out) {
  (void)cls;
  REQUIRE_LOADED("planGemm");
  return plan_gemm(env, "planGemm", handle, m, n, k, stride, out_float, JNI_FALSE, max_workspace, requested, out);
}

/*
 * Plans the FP8 form: x[m, k] and w[n, k] e4m3 codes (k a multiple of 16), float32 accumulate,
 * y[i, j] = xScales[i] · wScales[j] · Σ_k x[i, k] · w[j, k] in bf16 or float32.
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_planGemmFp8(
    JNIEnv *env, jclass cls, jlong handle, jint m, jint n, jint k, jint stride, jboolean out_float,
    jlong max_workspace, jint requested, jlongArray out) {
  (void)cls;
  REQUIRE_LOADED("planGemmFp8");
  return plan_gemm(env, "planGemmFp8", handle, m, n, k, stride, out_float, JNI_TRUE, max_workspace, requested,
                   out);
}

/* Bytes of workspace algorithm `algo` of a plan needs. */
JNIEXPORT jlong JNICALL Java_io_decodefleet_agent_cublas_CublasLt_planWorkspace(JNIEnv *env, jclass cls,
                                                                                jlong plan, jint algo) {
  (void)cls;
  REQUIRE(plan != 0, "planWorkspace", "plan", "must not be null", plan);
  plan_t *p = (plan_t *)(intptr_t)plan;
  REQUIRE(algo >= 0 && algo < p->count, "planWorkspace", "algo", "is not one of the plan's algorithms", algo);
  return (jlong)p->algos[algo].workspace_size;
}

JNIEXPORT void JNICALL Java_io_decodefleet_agent_cublas_CublasLt_planDestroy(JNIEnv *env, jclass cls,
                                                                            jlong plan) {
  (void)env;
  (void)cls;
  if (plan != 0 && lt.handle != NULL) {
    plan_free((plan_t *)(intptr_t)plan);
  }
}

/* The checks and the launch both GEMM forms share. */
static jint launch(JNIEnv *env, const char *fn, jlong handle, plan_t *p, jint algo, jlong y, jlong x, jlong w,
                   jlong workspace, jlong workspace_bytes, jlong stream) {
  REQUIRE(algo >= 0 && algo < p->count, fn, "algo", "is not one of the plan's algorithms", algo);
  REQUIRE(y != 0, fn, "y", "must not be null", y);
  REQUIRE(x != 0, fn, "x", "must not be null", x);
  REQUIRE(w != 0, fn, "w", "must not be null", w);
  REQUIRE(workspace_bytes >= (jlong)p->algos[algo].workspace_size, fn, "workspaceBytes",
          "is less than the algorithm needs", workspace_bytes);
  REQUIRE(workspace_bytes == 0 || workspace != 0, fn, "workspace", "must not be null", workspace);
  const float alpha = 1.0f, beta = 0.0f;
  void *out = (void *)(intptr_t)y;
  return lt.matmul((lt_handle_t)(intptr_t)handle, p->desc, &alpha, (const void *)(intptr_t)w, p->w,
                   (const void *)(intptr_t)x, p->x, &beta, out, p->y, out, p->y, &p->algos[algo].algo,
                   (void *)(intptr_t)workspace, (size_t)workspace_bytes, (cuda_stream_t)(intptr_t)stream);
}

/* Launches algorithm `algo` of a bf16 plan on `stream`: y = x · wᵀ. Capturable into a CUDA graph. */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_gemm(
    JNIEnv *env, jclass cls, jlong handle, jlong plan, jint algo, jlong y, jlong x, jlong w, jlong workspace,
    jlong workspace_bytes, jlong stream) {
  (void)cls;
  const char *fn = "gemm";
  REQUIRE_LOADED("gemm");
  REQUIRE(handle != 0, fn, "handle", "must not be null", handle);
  REQUIRE(plan != 0, fn, "plan", "must not be null", plan);
  plan_t *p = (plan_t *)(intptr_t)plan;
  REQUIRE(!p->fp8, fn, "plan", "is an FP8 plan (launch it with gemmFp8)", plan);
  return launch(env, fn, handle, p, algo, y, x, w, workspace, workspace_bytes, stream);
}

/*
 * Launches algorithm `algo` of an FP8 plan: y = (xScales ⊗ wScales) ∘ (x · wᵀ), the scales float32
 * device vectors of m and n. The pointers go into the plan's descriptor before the launch (host
 * state only, so a capture records this launch's), hence one thread at a time per plan.
 */
JNIEXPORT jint JNICALL Java_io_decodefleet_agent_cublas_CublasLt_gemmFp8(
    JNIEnv *env, jclass cls, jlong handle, jlong plan, jint algo, jlong y, jlong x, jlong x_scales, jlong w,
    jlong w_scales, jlong workspace, jlong workspace_bytes, jlong stream) {
  (void)cls;
  const char *fn = "gemmFp8";
  REQUIRE_LOADED("gemmFp8");
  REQUIRE(handle != 0, fn, "handle", "must not be null", handle);
  REQUIRE(plan != 0, fn, "plan", "must not be null", plan);
  plan_t *p = (plan_t *)(intptr_t)plan;
  REQUIRE(p->fp8, fn, "plan", "is a bf16 plan (launch it with gemm)", plan);
  REQUIRE(x_scales != 0, fn, "xScales", "must not be null", x_scales);
  REQUIRE(w_scales != 0, fn, "wScales", "must not be null", w_scales);
  const void *a_scale = (const void *)(intptr_t)w_scales, *b_scale = (const void *)(intptr_t)x_scales;
  lt_status_t s = lt.desc_set(p->desc, DESC_A_SCALE_POINTER, &a_scale, sizeof a_scale);
  if (s == LT_SUCCESS) s = lt.desc_set(p->desc, DESC_B_SCALE_POINTER, &b_scale, sizeof b_scale);
  if (s != LT_SUCCESS) return s;
  return launch(env, fn, handle, p, algo, y, x, w, workspace, workspace_bytes, stream);
}

/* "CUBLAS_STATUS_…: description", or the number when the library cannot name it. */
JNIEXPORT jstring JNICALL Java_io_decodefleet_agent_cublas_CublasLt_statusString(JNIEnv *env, jclass cls,
                                                                               jint status) {
  (void)cls;
  char text[256];
  if (lt.handle != NULL && lt.status_name != NULL && lt.status_string != NULL) {
    snprintf(text, sizeof text, "%s: %s", lt.status_name(status), lt.status_string(status));
  } else {
    snprintf(text, sizeof text, "cuBLAS status %d", status);
  }
  return (*env)->NewStringUTF(env, text);
}
