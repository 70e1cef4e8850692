package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.kernels.cuda.GemvFp8Params;
import java.util.ArrayList;
import java.util.List;

/**
 * The one-row GEMVs as the backend launches them: over FP8 codes a warp a row (gemv_fp8.cu) or on the tensor cores
 * (gemv_fp8_mma.cu, where the shape fits), whichever the dispatch chose, and over bf16 weights on the tensor cores
 * (gemv_fp8_mma.cu's bf16 kernel, {@link GemmTuner#GEMV_BF16_SETTING_ENV}); the grid and the warps a task as
 * {@link GemvFp8Params#plan} has them; and, where one runs a layer's one-row projection ({@link
 * Projections#gemvFp8Chosen}, {@link Projections#gemvBf16Chosen}), the kernels around the projection run inside
 * it: the residual add and RMSNorm in front ({@link GemmTuner#GEMV_FP8_NORM_SETTING_ENV}) and SwiGLU behind
 * gate_up ({@link GemmTuner#GEMV_FP8_SWIGLU_SETTING_ENV}).
 */
final class Fp8Gemv {

  /**
   * The residual add and RMSNorm a one-row FP8 GEMV makes in front of its projection: {@code residual +
   * delta} (the GEMV's x) written to {@code residualOut}, normed with {@code weight}.
   */
  record Norm(long residual, long residualOut, long weight, float eps) {}

  /**
   * Whether an FP8 projection of {@code m} rows and depth {@code k} on these operands runs the FP8 GEMV:
   * one row, the setting on ({@code gemvFp8}), a depth it takes, x and the codes 16-byte aligned.
   */
  static boolean runs(boolean gemvFp8, int m, int k, boolean aligned) {
    return gemvFp8 && aligned && GemvFp8Params.supports(m, k);
  }

  /**
   * Whether it runs the FP8 GEMV on the tensor cores (gemv_fp8_mma.cu): as {@link #runs} with that variant's
   * setting on ({@code on}), whole 8-row tasks of the {@code n} rows and k a multiple of 512.
   */
  static boolean mmaRuns(boolean on, int m, int n, int k, boolean aligned) {
    return runs(on, m, k, aligned) && GemvFp8Params.mmaFits(n, k);
  }

  /**
   * Whether a bf16 projection of {@code m} rows, {@code n} output rows and depth {@code k} can run the bf16 GEMV:
   * one row, whole 8-row tasks, k a multiple of 256 up to 16384, x and the weight 16-byte aligned.
   */
  static boolean bf16Runs(int m, int n, int k, boolean aligned) {
    return m == 1 && aligned && GemvFp8Params.mmaFitsBf16(n, k);
  }

  /**
   * The FP8 GEMV variant the dispatch's choice {@code chosen} (null: none) names, if it may run on this projection
   * here ({@code gemvFp8}: the GEMV's setting; {@code mma}: its tensor-core variant's); else null. A choice of the
   * warp-a-row GEMV runs on the tensor cores where {@code mma} is ON and the shape fits.
   */
  static GemmChoice.Kernel chosenFp8(GemmChoice chosen, boolean gemvFp8, GemmTuner.GemvMma mma, int m, int n, int k,
      boolean aligned) {
    if (chosen == null) return null;
    if (chosen.kernel() == GemmChoice.Kernel.GEMV_FP8 && runs(gemvFp8, m, k, aligned)) {
      boolean inPlace = mma == GemmTuner.GemvMma.ON && mmaRuns(true, m, n, k, aligned);
      return inPlace ? GemmChoice.Kernel.GEMV_FP8_MMA : GemmChoice.Kernel.GEMV_FP8;
    }
    if (chosen.kernel() == GemmChoice.Kernel.GEMV_FP8_MMA && mmaRuns(mma == GemmTuner.GemvMma.BOTH, m, n, k, aligned)) {
      return GemmChoice.Kernel.GEMV_FP8_MMA;
    }
    return null;
  }

  /**
   * Whether a one-row bf16 projection runs the bf16 GEMV: where it fits ({@link #bf16Runs}) and {@code mode} is ON,
   * or TIMED and the dispatch chose it ({@code chosen}, null: none).
   */
  static boolean chosenBf16(GemmTuner.GemvBf16 mode, GemmChoice chosen, int n, int k, boolean aligned) {
    if (!bf16Runs(1, n, k, aligned)) return false;
    return mode == GemmTuner.GemvBf16.ON
        || mode == GemmTuner.GemvBf16.TIMED && chosen != null && chosen.kernel() == GemmChoice.Kernel.GEMV_BF16_MMA;
  }

  private final KernelModule kernels;
  private final CudaStream stream;
  private final boolean on; // the FP8 GEMV is a dispatch candidate at one row
  private final GemmTuner.GemvBf16 bf16; // how the bf16 GEMV takes part
  private final boolean norm; // may take the residual add and norm in front
  private final boolean swiglu; // may take SwiGLU behind gate_up rows

  /**
   * @param on whether the FP8 GEMV is a dispatch candidate ({@link GemmTuner#GEMV_FP8_SETTING_ENV})
   * @param bf16 how the bf16 GEMV takes part ({@link GemmTuner#GEMV_BF16_SETTING_ENV})
   */
  Fp8Gemv(KernelModule kernels, CudaStream stream, boolean on, GemmTuner.GemvBf16 bf16) {
    this.kernels = kernels;
    this.stream = stream;
    this.on = on;
    this.bf16 = bf16;
    boolean any = on || bf16 != GemmTuner.GemvBf16.OFF;
    this.norm = any && GemmTuner.gemvFp8NormOn();
    this.swiglu = any && GemmTuner.gemvFp8SwigluOn();
  }

  /** Whether the GEMV may make the residual add and norm in front. */
  boolean norm() {
    return norm;
  }

  /**
   * Whether {@code kernel} may make SwiGLU behind the gate_up rows of an {@code n}-row, depth-{@code k} projection:
   * the setting on, and over bf16 weights whole 8-row tasks of the n / 2 output rows (the FP8 launch plans a warp
   * a row where they are not whole).
   */
  boolean swigluBehind(GemmChoice.Kernel kernel, int n, int k) {
    return swiglu && (kernel != GemmChoice.Kernel.GEMV_BF16_MMA || GemvFp8Params.mmaFitsBf16(n / 2, k))
        && (kernel != GemmChoice.Kernel.GEMV_FP8X8_MMA || GemvFp8Params.mmaFits(n / 2, k));
  }


  /**
   * One launch of a projection given to a GEMV ({@code kernel}: {@link GemmChoice.Kernel#GEMV_FP8}, {@link
   * GemmChoice.Kernel#GEMV_FP8_MMA} or {@link GemmChoice.Kernel#GEMV_BF16_MMA}): {@code out = x · (e4m3(w) *
   * scale)ᵀ} (bf16; over bf16 weights {@code x · wᵀ}, {@code scales} unused), with {@code inFront} where not null
   * (x is then the delta) and SwiGLU behind where {@code behind} (w is a gate_up weight, out (1, n / 2) bf16 the
   * activation).
   */
  void project(long out, int outStride, long x, Norm inFront, boolean behind, long w, long scales, int n, int k,
      GemmChoice.Kernel kernel) {
    if (inFront != null && !norm || behind && !swiglu) {
      throw new IllegalStateException("the one-row GEMV's " + (behind ? "SwiGLU behind" : "norm in front")
          + " is off here");
    }
    GemvFp8Params p;
    if (kernel == GemmChoice.Kernel.GEMV_BF16_MMA) {
      p = GemvFp8Params.residentBf16(out, x, w, n, k, outStride, false, behind);
    } else if (kernel == GemmChoice.Kernel.GEMV_FP8 || kernel == GemmChoice.Kernel.GEMV_FP8_MMA
        || kernel == GemmChoice.Kernel.GEMV_FP8X8_MMA) {
      p = behind ? GemvFp8Params.swigluOut(out, x, w, scales, n, k, outStride)
          : GemvFp8Params.resident(out, x, w, scales, n, k, outStride, false);
      if (kernel == GemmChoice.Kernel.GEMV_FP8X8_MMA) p = p.withXCodes();
    } else {
      throw new IllegalArgumentException(kernel.label() + " is not a one-row GEMV");
    }
    if (inFront != null) p = p.withNorm(inFront.residual(), inFront.residualOut(), inFront.weight(), inFront.eps());
    launch(p, kernel != GemmChoice.Kernel.GEMV_FP8);
  }

  /**
   * Launches {@code p} as {@link GemvFp8Params#plan} has it (on the tensor cores where {@code mma} and the shape
   * fits), on the CTAs that fit at its shared memory.
   */
  void launch(GemvFp8Params p, boolean mma) {
    GemvFp8Params.Launch l = p.plan(mma, kernels::slots, kernels.context().gpu().smCount());
    kernels.launch(l.kernel(), l.shape(), l.params(), stream);
  }

  /**
   * The bf16 GEMV's part and what runs inside it, for the load line of a bf16 model: empty where it is off.
   */
  String describeBf16() {
    if (bf16 == GemmTuner.GemvBf16.OFF) return "";
    return withInside("; the one-row bf16 GEMV on the tensor cores" + (bf16 == GemmTuner.GemvBf16.ON
        ? " (every layer projection it fits)" : " (where it timed fastest)"));
  }

  /** What runs inside the GEMV and on which variant ({@code mma}), for the load line: empty where it is not a candidate. */
  String describe(GemmTuner.GemvMma mma) {
    if (!on) return "";
    return withInside("; the one-row FP8 GEMV" + switch (mma) {
      case ON -> " (on the tensor cores where the shape fits)";
      case BOTH -> " (its two variants timed apart)";
      case OFF -> " (a warp a row)";
    });
  }

  /** {@code gemv}, then what runs inside it (the norm in front, SwiGLU behind), or "alone". */
  private String withInside(String gemv) {
    List<String> inside = new ArrayList<>(2);
    if (norm) inside.add("the norm in front");
    if (swiglu) inside.add("SwiGLU behind");
    return inside.isEmpty() ? gemv + " alone" : gemv + " with " + String.join(", ", inside);
  }
}
