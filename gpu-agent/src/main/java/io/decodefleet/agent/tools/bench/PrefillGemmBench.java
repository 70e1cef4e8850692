package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The prefill part of {@code gpu-agent bench kernels}: the Llama-3-8B projections ({@link
 * KernelBench#GEMM_NK}) at {@link #PREFILL_M} rows, where the GEMMs are bound by the tensor cores,
 * so rows read in TFLOP/s: our tensor-core GEMM, our wgmma GEMM (sm_90) and cuBLASLt's fastest
 * candidate on the same inputs and timing as the decode grid, each with its share of the point's
 * best; on sm_90 also our wgmma GEMM over FP8 weights (the same product with e4m3 codes, widened in
 * shared memory), its share against the best bf16 row. The square 8192 x 4096 x 4096 point is the
 * wgmma GEMM's target (≥ 600 TFLOP/s on an H200).
 */
final class PrefillGemmBench {

  /** Prefill row counts (tokens of one step). */
  static final int[] PREFILL_M = {512, 1024, 2048, 4096, 8192};

  private static final String FORMAT = "%-20s %-12s %-34s %10s %9s %8s%n";

  private PrefillGemmBench() {}

  static List<BenchResult> run(DeviceHarness h, PrintStream out, boolean withLt, boolean withWgmma) {
    double copyPerUs = h.copyBytesPerUs();
    List<BenchResult> results = new ArrayList<>();
    out.printf(Locale.ROOT, FORMAT, "kernel (prefill)", "variant", "shape", "time us", "TFLOP/s", "of best");
    for (int[] nk : KernelBench.GEMM_NK) {
      for (int m : PREFILL_M) {
        List<BenchResult> rows = new ArrayList<>();
        rows.add(KernelBench.tensorCoreGemm(h, m, nk[0], nk[1], copyPerUs));
        h.freeAll();
        if (withWgmma) {
          rows.add(KernelBench.wgmmaGemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        if (withLt) {
          rows.add(KernelBench.cublasLtGemm(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        double best = rows.stream().mapToDouble(BenchResult::medianUs).min().orElse(Double.NaN);
        if (withWgmma) {
          rows.add(Fp8GemmBench.wgmma(h, m, nk[0], nk[1], copyPerUs));
          h.freeAll();
        }
        for (BenchResult r : rows) {
          out.printf(Locale.ROOT, FORMAT, r.kernel(), r.variant(), r.shapeText(),
              String.format(Locale.ROOT, "%.2f", r.medianUs()),
              String.format(Locale.ROOT, "%.1f", teraflops(r)),
              String.format(Locale.ROOT, "%.0f%%", 100 * best / r.medianUs()));
          out.flush();
          results.add(r);
        }
      }
    }
    return results;
  }

  /** 2·m·n·k over the median time, in TFLOP/s. */
  static double teraflops(BenchResult r) {
    double flops = 2.0 * r.shape().get("m") * r.shape().get("n") * r.shape().get("k");
    return flops / r.medianUs() / 1e6;
  }
}
