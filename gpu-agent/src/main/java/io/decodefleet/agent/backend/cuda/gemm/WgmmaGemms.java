package io.decodefleet.agent.backend.cuda.gemm;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.TensorMap;
import io.decodefleet.kernels.cuda.WgmmaGemmFp8Params;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;

/**
 * Launches our Hopper GEMM ({@code df_wgmma_gemm}, "ours:wgmma") for dispatch shapes: encodes the
 * two tensor maps of each (pointer, shape) once and keeps the most recent {@value #KEPT_MAPS}, so
 * a decode step's launches (and graph captures) reuse them; the persistent grid is one CTA per SM.
 *
 * <p>It runs where {@link #unavailabilityCause(GpuInfo)} is empty: an sm_90 device (the kernel is
 * sm_90a machine code; on sm_100 and newer the dispatch keeps the tensor-core GEMM and cuBLASLt)
 * and a loaded tensor-map shim. Whether the dispatch may choose it is a separate setting, {@value
 * #SETTING_ENV} ({@link #inDispatch()}, on unless {@code off}): the self-test and {@code bench kernels}
 * run it regardless. Where cuBLASLt is loaded it rarely wins (88–95 % of cuBLASLt's rate on an H100);
 * where it is not, it doubles our tensor-core GEMM's prefill rate.
 */
public final class WgmmaGemms {

  /** Unless {@code off}: "ours:wgmma" is a dispatch candidate from {@link GemmTuner#WGMMA_MIN_ROWS} rows. */
  public static final String SETTING_ENV = "DECODEFLEET_GEMM_WGMMA";
  /** Tensor maps kept (two per distinct launch): every weight of an 80-layer model and the x maps of many row counts. */
  static final int KEPT_MAPS = 1024;

  private final KernelModule kernels;
  private final CudaStream stream;
  private final TensorMapCache maps;

  public WgmmaGemms(KernelModule kernels, CudaStream stream) {
    String cause = unavailabilityCause(kernels.context().gpu());
    if (!cause.isEmpty()) {
      throw new IllegalStateException(cause);
    }
    this.kernels = kernels;
    this.stream = stream;
    this.maps = new TensorMapCache(kernels.context().gpu(), KEPT_MAPS);
  }

  /** Empty when the kernel can run on {@code gpu}; else why not, in one line. */
  public static String unavailabilityCause(GpuInfo gpu) {
    if (!WgmmaGemmParams.supports(gpu.computeMajor(), gpu.computeMinor())) {
      return "ours:wgmma is sm_90a code only; " + gpu.label() + " is " + gpu.arch();
    }
    return TensorMaps.unavailabilityCause();
  }

  /** Whether {@value #SETTING_ENV} lets the dispatch choose "ours:wgmma" (default on). */
  public static boolean inDispatch() {
    return settingNotOff(System.getenv(SETTING_ENV));
  }

  /**
   * A kernel's dispatch setting: unset, or anything but {@code off}, {@code 0} or {@code false} (any
   * case, blanks around), is on. The opt-in kernels became candidates by default once their self-test
   * rows had passed on a GPU; the setting takes one out again.
   */
  static boolean settingNotOff(String value) {
    return io.decodefleet.agent.backend.cuda.driver.EnvSetting.notOff(value);
  }

  /** The opposite default, for a kernel not yet checked on a GPU: on only for {@code on}, {@code 1} or {@code true}. */
  static boolean settingOn(String value) {
    return io.decodefleet.agent.backend.cuda.driver.EnvSetting.on(value);
  }

  /** Whether x and w start where a tensor map may (16-byte aligned); elsewhere the caller runs another GEMM. */
  public static boolean aligned(long x, long w) {
    return ((x | w) & 15) == 0;
  }

  /** The launch parameters of one product, its tensor maps encoded or reused. */
  public WgmmaGemmParams params(GemmShape s, long out, long x, long w) {
    TensorMap xMap = maps.get(WgmmaGemmParams.xMapSpec(x, s.m(), s.k()));
    TensorMap wMap = maps.get(WgmmaGemmParams.wMapSpec(w, s.n(), s.k()));
    return new WgmmaGemmParams(xMap, wMap, out, s.m(), s.n(), s.k(), s.stride(), s.outFloat() ? 1 : 0);
  }

  /** Enqueues y = x · wᵀ for {@code s} on the stream. */
  public void launch(GemmShape s, long out, long x, long w) {
    WgmmaGemmParams p = params(s, out, x, w);
    kernels.launch(Kernel.WGMMA_GEMM, p.launch(kernels.context().gpu().smCount()), p, stream);
  }

  /**
   * The launch parameters of one product with FP8 weights ({@code df_wgmma_gemm_fp8}): x's map as
   * for bf16, w's as codes, {@code scales} per output row ({@code perRow}) or one for the tensor.
   */
  public WgmmaGemmFp8Params paramsFp8(GemmShape s, long out, long x, long w, long scales, boolean perRow) {
    TensorMap xMap = maps.get(WgmmaGemmParams.xMapSpec(x, s.m(), s.k()));
    TensorMap wMap = maps.get(WgmmaGemmFp8Params.wMapSpec(w, s.n(), s.k()));
    return new WgmmaGemmFp8Params(xMap, wMap, out, scales, s.m(), s.n(), s.k(), s.stride(), perRow ? 1 : 0,
        s.outFloat() ? 1 : 0);
  }

  /** Enqueues y[i, j] = scales[j] · Σ x[i, k] · e4m3(w[j, k]) for {@code s} on the stream ("ours:wgmma-fp8"). */
  public void launchFp8(GemmShape s, long out, long x, long w, long scales, boolean perRow) {
    WgmmaGemmFp8Params p = paramsFp8(s, out, x, w, scales, perRow);
    kernels.launch(Kernel.WGMMA_GEMM_FP8, p.launch(kernels.context().gpu().smCount()), p, stream);
  }
}
