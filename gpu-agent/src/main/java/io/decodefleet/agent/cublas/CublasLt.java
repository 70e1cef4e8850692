package io.decodefleet.agent.cublas;

import io.decodefleet.agent.nativeshim.ShimLibrary;
import java.util.ArrayList;
import java.util.List;

/**
 * cuBLASLt through the project's JNI shim ({@code src/main/native/decodefleet_cublaslt.c}): public
 * wrappers over {@code private static native} methods, one GEMM form (y[m, n] = x[m, k] · w[n, k]ᵀ,
 * bf16 in, float32 accumulate, bf16 or float32 out) and its FP8 variant (x and w e4m3 codes with a
 * float32 scale per row of each: {@link #planFp8}, {@link #gemmFp8}). Only primitives, {@code long}
 * handles and device pointers cross JNI.
 *
 * <p>The shim loads once, at class initialisation, then dlopens {@code libcublasLt.so.13}, else
 * {@code libcublasLt.so.12} (or the file named by {@value #LIBRARY_PROPERTY} /
 * {@value #LIBRARY_ENV}). A host without it is normal (a driver-only GPU host): {@link
 * #isAvailable()} is false and {@link #unavailabilityCause()} says why in one line; the engine then
 * runs its own kernels. A non-success status becomes a {@link CublasException} naming the
 * operation, the device and cuBLAS's own text for the status.
 */
public final class CublasLt {

  /** System property naming the cuBLASLt library (a file path or a soname); wins over the env var. */
  public static final String LIBRARY_PROPERTY = "decodefleet.cublaslt.library";
  public static final String LIBRARY_ENV = "DECODEFLEET_CUBLASLT_LIBRARY";
  /** Tried in order when no library is named: CUDA 13's, then CUDA 12's. */
  public static final List<String> DEFAULT_LIBRARIES = List.of("libcublasLt.so.13", "libcublasLt.so.12");
  /** The most candidate algorithms a plan holds (the shim's array). */
  public static final int MAX_ALGORITHMS = 16;

  private static final ShimLibrary SHIM =
      new ShimLibrary("the cuBLASLt shim", "/io/decodefleet/agent/cublas/native/linux-x86_64/libdecodefleet_cublaslt.so");
  private static final String UNAVAILABLE;
  private static final String LOADED;

  static {
    String[] outcome = probe();
    UNAVAILABLE = outcome[0];
    LOADED = outcome[1];
  }

  private CublasLt() {}

  /**
   * Candidate algorithms for one GEMM shape, best first by cuBLASLt's heuristic.
   *
   * @param address the shim's plan (descriptors and algorithms), freed by {@link #destroyPlan}
   */
  public record Plan(long address, int m, int n, int k, int stride, boolean outFloat, int algorithms, boolean fp8) {

    public Plan(long address, int m, int n, int k, int stride, boolean outFloat, int algorithms) {
      this(address, m, n, k, stride, outFloat, algorithms, false);
    }
  }

  public static boolean isAvailable() {
    return UNAVAILABLE.isEmpty();
  }

  /** "" when available, else one line: the platform and every cause. */
  public static String unavailabilityCause() {
    return UNAVAILABLE;
  }

  /** The library file that was opened (a soname or path); "" when unavailable. */
  public static String library() {
    return LOADED;
  }

  /** cuBLASLt's version, major*10000 + minor*100 + patch. */
  public static long version() {
    requireAvailable("cublasLtGetVersion");
    return cublasLtGetVersion();
  }

  /** A cuBLASLt handle for the CUDA context current on this thread. */
  public static long create(String device) {
    requireAvailable("cublasLtCreate");
    long[] out = new long[1];
    check(cublasLtCreate(out), "cublasLtCreate", device);
    return out[0];
  }

  public static void destroy(long handle, String device) {
    check(cublasLtDestroy(handle), "cublasLtDestroy", device);
  }

  /**
   * Plans y[m, n] (rows {@code stride} elements apart) = x[m, k] · w[n, k]ᵀ with at most {@code
   * requested} candidate algorithms that need no more than {@code maxWorkspace} bytes. Returns null
   * when cuBLASLt has no algorithm for the shape on this device.
   */
  public static Plan plan(long handle, int m, int n, int k, int stride, boolean outFloat, long maxWorkspace,
      int requested, String device) {
    requireAvailable("planGemm");
    long[] out = new long[2];
    int status = planGemm(handle, m, n, k, stride, outFloat, maxWorkspace, requested, out);
    if (status == 15 || (status == 0 && out[1] == 0)) { // CUBLAS_STATUS_NOT_SUPPORTED, or nothing found
      return null;
    }
    check(status, "cublasLtMatmulAlgoGetHeuristic (m " + m + ", n " + n + ", k " + k + ")", device);
    return new Plan(out[0], m, n, k, stride, outFloat, (int) out[1]);
  }

  /**
   * Plans the FP8 form: y[i, j] = xScales[i] · wScales[j] · Σ x[i, k] w[j, k] over e4m3 codes (k a multiple
   * of 16), float32 accumulation, y bf16 or float32 (cuBLASLt's outer-vector scaling: CUDA 12.9 and later,
   * FP8 tensor cores). Returns null when cuBLASLt has no algorithm for it on this device.
   */
  public static Plan planFp8(long handle, int m, int n, int k, int stride, boolean outFloat, long maxWorkspace,
      int requested, String device) {
    requireAvailable("planGemmFp8");
    long[] out = new long[2];
    int status = planGemmFp8(handle, m, n, k, stride, outFloat, maxWorkspace, requested, out);
    if (status == 15 || (status == 0 && out[1] == 0)) {
      return null;
    }
    check(status, "cublasLtMatmulAlgoGetHeuristic (FP8, m " + m + ", n " + n + ", k " + k + ")", device);
    return new Plan(out[0], m, n, k, stride, outFloat, (int) out[1], true);
  }

  /** Workspace bytes algorithm {@code algorithm} of {@code plan} needs. */
  public static long workspaceBytes(Plan plan, int algorithm) {
    return planWorkspace(plan.address(), algorithm);
  }

  public static void destroyPlan(Plan plan) {
    planDestroy(plan.address());
  }

  /** Launches y = x · wᵀ with one of the plan's algorithms on {@code stream} (a raw CUstream). */
  public static void gemm(long handle, Plan plan, int algorithm, long y, long x, long w, long workspace,
      long workspaceBytes, long stream, String device) {
    check(gemm(handle, plan.address(), algorithm, y, x, w, workspace, workspaceBytes, stream),
        "cublasLtMatmul (m " + plan.m() + ", n " + plan.n() + ", k " + plan.k() + ", algorithm " + algorithm + ")",
        device);
  }

  /**
   * Launches the FP8 form of {@code plan} ({@link #planFp8}): y = x · wᵀ over codes, each output scaled by its
   * row's {@code xScales} and its column's {@code wScales} (float32 device vectors of m and n).
   */
  public static void gemmFp8(long handle, Plan plan, int algorithm, long y, long x, long xScales, long w,
      long wScales, long workspace, long workspaceBytes, long stream, String device) {
    check(gemmFp8(handle, plan.address(), algorithm, y, x, xScales, w, wScales, workspace, workspaceBytes, stream),
        "cublasLtMatmul (FP8, m " + plan.m() + ", n " + plan.n() + ", k " + plan.k() + ", algorithm " + algorithm
            + ")", device);
  }

  private static void check(int status, String operation, String device) {
    if (status != 0) {
      throw new CublasException(operation, device, status, statusString(status));
    }
  }

  private static void requireAvailable(String operation) {
    if (!isAvailable()) {
      throw new IllegalStateException(operation + ": " + UNAVAILABLE);
    }
  }

  /** {cause or "", library opened or ""}. */
  private static String[] probe() {
    String prefix = "cuBLASLt is unavailable on " + ShimLibrary.platform() + ": ";
    String shim = SHIM.load();
    if (!shim.isEmpty()) {
      return new String[] {prefix + shim, ""};
    }
    String named = ShimLibrary.chosenLibrary(LIBRARY_PROPERTY, LIBRARY_ENV);
    List<String> candidates = named != null ? List.of(named) : DEFAULT_LIBRARIES;
    List<String> failures = new ArrayList<>();
    for (String library : candidates) {
      String failure;
      try {
        failure = loadLibrary(library);
      } catch (UnsatisfiedLinkError e) {
        return new String[] {prefix + "the cuBLASLt shim does not match this class: " + e.getMessage(), ""};
      }
      if (failure.isEmpty()) {
        return new String[] {"", library};
      }
      failures.add(failure);
    }
    return new String[] {prefix + String.join("; ", failures) + " (put the CUDA toolkit's lib folder on"
        + " LD_LIBRARY_PATH, or name the file with -D" + LIBRARY_PROPERTY + "=PATH or " + LIBRARY_ENV + "=PATH)", ""};
  }

  private static native String loadLibrary(String library);

  private static native long cublasLtGetVersion();

  private static native int cublasLtCreate(long[] handleOut);

  private static native int cublasLtDestroy(long handle);

  private static native int planGemm(long handle, int m, int n, int k, int stride, boolean outFloat,
      long maxWorkspace, int requested, long[] out);

  private static native int planGemmFp8(long handle, int m, int n, int k, int stride, boolean outFloat,
      long maxWorkspace, int requested, long[] out);

  private static native long planWorkspace(long plan, int algorithm);

  private static native void planDestroy(long plan);

  private static native int gemm(long handle, long plan, int algorithm, long y, long x, long w, long workspace,
      long workspaceBytes, long stream);

  private static native int gemmFp8(long handle, long plan, int algorithm, long y, long x, long xScales, long w,
      long wScales, long workspace, long workspaceBytes, long stream);

  private static native String statusString(int status);
}
