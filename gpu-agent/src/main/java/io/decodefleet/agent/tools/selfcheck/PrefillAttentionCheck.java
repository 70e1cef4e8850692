package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.PrefillAttentionParams;
import io.decodefleet.kernels.cuda.PrefillAttentionTmaParams;
import io.decodefleet.kernels.reference.CausalAttention;
import java.util.Arrays;

/** Causal prefill attention over packed sequences against {@link CausalAttention}, per sequence. */
final class PrefillAttentionCheck {

  private PrefillAttentionCheck() {}

  static CheckResult run(DeviceHarness h, int qHeads, int kvHeads, int headDim, int[] seqLens) {
    return run(h, qHeads, kvHeads, headDim, seqLens, Kernel.PREFILL_ATTENTION_D128);
  }

  /** {@code d128}: the head-dim-128 variant to run whatever the settings say (at head dim 64 there is one). */
  static CheckResult run(DeviceHarness h, int qHeads, int kvHeads, int headDim, int[] seqLens, Kernel d128) {
    int[] starts = new int[seqLens.length + 1];
    for (int i = 0; i < seqLens.length; i++) {
      starts[i + 1] = starts[i] + seqLens[i];
    }
    int tokens = starts[seqLens.length];
    int qw = qHeads * headDim;
    int kw = kvHeads * headDim;
    float[] q = h.randomBf16(tokens * qw, 1.0);
    float[] k = h.randomBf16(tokens * kw, 1.0);
    float[] v = h.randomBf16(tokens * kw, 1.0);
    float scale = (float) (1.0 / Math.sqrt(headDim));
    float[] expected = new float[tokens * qw];
    long pairs = 0;
    for (int i = 0; i < seqLens.length; i++) {
      int n = seqLens[i];
      float[] out = new float[n * qw];
      CausalAttention.forward(
          Arrays.copyOfRange(q, starts[i] * qw, starts[i + 1] * qw),
          Arrays.copyOfRange(k, starts[i] * kw, starts[i + 1] * kw),
          Arrays.copyOfRange(v, starts[i] * kw, starts[i + 1] * kw),
          n, qHeads, kvHeads, headDim, scale, out);
      System.arraycopy(out, 0, expected, starts[i] * qw, out.length);
      pairs += (long) n * (n + 1) / 2;
    }
    DeviceBuffer out = h.poisonedBf16(expected.length);
    PrefillAttentionParams p = new PrefillAttentionParams(out.address(), h.bf16(q).address(),
        h.bf16(k).address(), h.bf16(v).address(), h.ints(starts).address(), seqLens.length,
        qHeads, kvHeads, headDim, (float) (scale / Math.log(2.0)));
    int maxLen = Arrays.stream(seqLens).max().orElse(0);
    Kernel kernel = p.kernel(d128);
    Runnable run;
    if (kernel == Kernel.PREFILL_ATTENTION_TMA_D128 || kernel == Kernel.PREFILL_ATTENTION_TMA_PP_D128) {
      PrefillAttentionTmaParams t = PrefillAttentionTmaParams.of(p, tokens, spec -> TensorMaps.encode(spec, h.gpu()));
      run = () -> h.launch(kernel, t.launch(maxLen), t);
    } else {
      run = () -> h.launch(kernel, p.launch(kernel, maxLen), p);
    }
    run.run();
    double err = Compare.relError(h.readBf16(out, expected.length), expected);
    double us = h.medianUs(run);
    double bytes = 2.0 * tokens * (2 * qw + 2 * kw);
    double flops = 4.0 * pairs * qw;
    return h.result(kernel == Kernel.PREFILL_ATTENTION_WGMMA_D128 ? "prefill attn causal wgmma"
        : kernel == Kernel.PREFILL_ATTENTION_TMA_D128 ? "prefill attn causal wgmma tma"
        : kernel == Kernel.PREFILL_ATTENTION_TMA_PP_D128 ? "prefill attn causal wgmma tma pp" : "prefill attn causal",
        String.format("seqs=%s Hq=%d Hkv=%d D=%d", Arrays.toString(seqLens), qHeads, kvHeads,
            headDim), err, Compare.BF16, us, bytes, flops);
  }
}
