package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.DummyWeightsParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.MoeCombineParams;
import io.decodefleet.kernels.cuda.MoeExpertGemmParams;
import io.decodefleet.kernels.cuda.MoePermuteParams;
import io.decodefleet.kernels.cuda.MoeRouteParams;
import io.decodefleet.kernels.reference.ExpertPermutation;
import io.decodefleet.kernels.reference.GroupedExperts;
import io.decodefleet.kernels.reference.MoeRouter;
import java.util.Arrays;
import java.util.Random;

/**
 * The mixture-of-experts kernels (moe.cu) against their CPU references: the router against {@link
 * MoeRouter} (experts exactly, tie rows included; weights to float32 rounding), the permutation
 * against {@link ExpertPermutation} (every offset, row, token and count exactly, with and without a
 * capacity), and the grouped expert GEMMs with the combine against {@link GroupedExperts} and {@link
 * ExpertPermutation#combine} on experts made by the dummy-weight kernel in the backend's layout. Every
 * launch has more rows than live ones (a graph's padding), which must stay untouched or zero.
 */
final class MoeChecks {

  private MoeChecks() {}

  /** Float32 weights of bf16-free arithmetic: only the last bit of a double exp may differ. */
  static final double ROUTER_WEIGHTS = 1e-6;

  static CheckResult route(DeviceHarness h, int live, int padding, int experts, int k, boolean norm) {
    int rows = live + padding;
    Random r = h.random();
    float[] logits = new float[rows * experts];
    for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 2);
    for (int t = 0; t < rows; t += 3) {
      // Exact ties: the tie rule (lower id first) decides these rows' slots.
      logits[t * experts + experts / 2] = logits[t * experts];
      logits[t * experts + experts - 1] = logits[t * experts];
    }
    MoeRouter.Routing ref = MoeRouter.route(Arrays.copyOf(logits, live * experts), live, experts, k, norm);
    DeviceBuffer outExperts = h.poisonedInts((long) rows * k);
    DeviceBuffer outWeights = h.poisonedF32((long) rows * k);
    MoeRouteParams p = new MoeRouteParams(outExperts.address(), outWeights.address(), h.f32(logits).address(),
        h.ints(new int[] {live}).address(), h.ints(new int[] {0}).address(), rows, experts, k, experts, norm ? 1 : 0);
    Runnable run = () -> h.launch(Kernel.MOE_ROUTE, p.launch(), p);
    run.run();
    int[] got = h.readInts(outExperts, rows * k);
    float[] w = h.readF32(outWeights, live * k);
    String failure = "";
    for (int i = 0; i < rows * k && failure.isEmpty(); i++) {
      int want = i < live * k ? ref.experts()[i] : DeviceHarness.INT_POISON;
      if (got[i] != want) failure = "row " + (i / k) + " slot " + (i % k) + ": expert " + got[i] + ", reference " + want;
    }
    double err = Compare.relError(w, ref.weights());
    double us = h.medianUs(run);
    // With its skip flag set the router leaves a routing given from the host in place.
    DeviceBuffer given = h.poisonedInts((long) rows * k);
    MoeRouteParams skipping = new MoeRouteParams(given.address(), outWeights.address(), p.logits(), p.liveRows(),
        h.ints(new int[] {1}).address(), rows, experts, k, experts, p.normTopk());
    h.launch(Kernel.MOE_ROUTE, skipping.launch(), skipping);
    int[] left = h.readInts(given, rows * k);
    for (int i = 0; i < left.length && failure.isEmpty(); i++) {
      if (left[i] != DeviceHarness.INT_POISON) failure = "skip flag set, but row " + (i / k) + " was routed";
    }
    double bytes = 4.0 * live * experts + 8.0 * live * k;
    return row(h, "moe route", String.format("tokens=%d (+%d padding) E=%d k=%d %s", live, padding, experts, k,
        norm ? "renormalised" : "softmax"), err, ROUTER_WEIGHTS, failure, us, bytes);
  }

  static CheckResult permute(DeviceHarness h, int live, int padding, int experts, int k, double capacityFactor) {
    int rows = live + padding;
    int[] choice = skewedRouting(h.random(), rows, experts, k);
    int cap = capacityFactor > 0 ? ExpertPermutation.capacity(capacityFactor, live, k, experts)
        : ExpertPermutation.UNBOUNDED;
    ExpertPermutation ref = ExpertPermutation.of(Arrays.copyOf(choice, live * k), live, k, experts, cap);
    Device d = permuteOnDevice(h, choice, rows, live, experts, k, capacityFactor);
    Runnable run = () -> h.launch(Kernel.MOE_PERMUTE, d.params.launch(), d.params);
    String failure = mismatch("offsets", h.readInts(d.offsets, experts + 1), ref.offsets(), experts + 1);
    if (failure.isEmpty()) failure = mismatch("rowOf", h.readInts(d.rowOf, live * k), ref.rowOf(), live * k);
    if (failure.isEmpty()) failure = mismatch("tokenOf", h.readInts(d.tokenOf, ref.kept()), ref.tokenOf(), ref.kept());
    if (failure.isEmpty()) {
      int[] load = h.readInts(d.load, 2 * experts);
      int[] want = new int[2 * experts];
      for (int e = 0; e < experts; e++) {
        want[2 * e] = ref.count(e);
        want[2 * e + 1] = ref.dropped()[e];
      }
      failure = mismatch("load", load, want, 2 * experts);
    }
    if (failure.isEmpty()) {
      // The experts that kept a row, counted then listed in ascending id (the grouped GEMMs' grid rows).
      int[] active = new int[experts + 1];
      for (int e = 0; e < experts; e++) {
        if (ref.count(e) > 0) active[1 + active[0]++] = e;
      }
      failure = mismatch("active", h.readInts(d.active, 1 + active[0]), active, 1 + active[0]);
    }
    double us = h.medianUs(run);
    double bytes = 4.0 * live * k * 3 + 12.0 * experts;
    return row(h, "moe permute", String.format("tokens=%d (+%d padding) E=%d k=%d %s", live, padding, experts, k,
        capacityFactor > 0 ? "capacity:" + capacityFactor + " (" + Arrays.stream(ref.dropped()).sum() + " dropped)"
            : "topk"), failure.isEmpty() ? 0 : Double.NaN, Compare.EXACT, failure, us, bytes);
  }

  /**
   * Permutation, grouped gate_up + SwiGLU and down GEMMs, and the combine, on experts made on the
   * device by the dummy-weight hash (each expert's gate rows then its up rows, as WeightLayout places
   * them); the row is timed on the two expert GEMMs, its bytes the weights of the experts that took
   * tokens.
   */
  static CheckResult experts(DeviceHarness h, int live, int experts, int k, int hidden, int inter,
      double capacityFactor) {
    return experts(h, live, experts, k, hidden, inter, capacityFactor, false);
  }

  /** As above; with {@code tensorCore} the tensor-core kernels (moe_prefill.cu) whatever the row count. */
  static CheckResult experts(DeviceHarness h, int live, int experts, int k, int hidden, int inter,
      double capacityFactor, boolean tensorCore) {
    ExpertCase c = ExpertCase.draw(h, live, experts, k, hidden, inter, capacityFactor);
    int rows = c.rows();
    float[] x = c.x();
    int[] choice = c.choice();
    float[] weights = c.weights();
    ExpertPermutation perm = c.perm();
    long seed = c.seed();
    int busy = c.busy();
    float[] expected = c.expected();

    long expertElems = 3L * inter * hidden;
    DeviceBuffer gateUpW = h.track(h.context().allocate(2L * experts * 2 * inter * hidden));
    DeviceBuffer downW = h.track(h.context().allocate(2L * experts * hidden * inter));
    for (int e = 0; e < experts; e++) {
      fill(h, gateUpW.address(2L * e * 2 * inter * hidden), seed, Kind.EXPERT_GATE, e, inter * hidden, hidden);
      fill(h, gateUpW.address(2L * (e * 2L + 1) * inter * hidden), seed, Kind.EXPERT_UP, e, inter * hidden, hidden);
      fill(h, downW.address(2L * e * hidden * inter), seed, Kind.EXPERT_DOWN, e, hidden * inter, inter);
    }
    Device d = permuteOnDevice(h, choice, rows, live, experts, k, capacityFactor);
    DeviceBuffer act = h.poisonedBf16((long) rows * k * inter);
    DeviceBuffer y = h.poisonedBf16((long) rows * k * hidden);
    DeviceBuffer out = h.poisonedBf16((long) rows * hidden);
    MoeExpertGemmParams gu = MoeExpertGemmParams.gateUp(act.address(), h.bf16(x).address(), gateUpW.address(),
        d.offsets.address(), d.tokenOf.address(), inter, hidden, hidden, experts);
    MoeExpertGemmParams dn = MoeExpertGemmParams.down(y.address(), act.address(), downW.address(),
        d.offsets.address(), hidden, inter, experts);
    MoeCombineParams cb = new MoeCombineParams(out.address(), y.address(), d.rowOf.address(),
        h.f32(weights).address(), d.live.address(), rows, hidden, k);
    Kernel guKernel = tensorCore ? Kernel.MOE_EXPERTS_GATE_UP_TC : Kernel.MOE_EXPERTS_GATE_UP;
    Kernel dnKernel = tensorCore ? Kernel.MOE_EXPERTS_DOWN_TC : Kernel.MOE_EXPERTS_DOWN;
    // As one device's backend launches them: the CUDA-core kernels' grids over the listed experts.
    MoeExpertGemmParams guRun = tensorCore ? gu : gu.withActive(d.active.address());
    MoeExpertGemmParams dnRun = tensorCore ? dn : dn.withActive(d.active.address());
    Runnable gemms = () -> {
      h.launch(guKernel, guRun.launch(guKernel, rows, k), guRun);
      h.launch(dnKernel, dnRun.launch(dnKernel, rows, k), dnRun);
    };
    gemms.run();
    h.launch(Kernel.MOE_COMBINE, cb.launch(), cb);
    double err = Compare.relError(h.readBf16(out, rows * hidden), expected);
    double us = h.medianUs(gemms);
    double bytes = 2.0 * busy * expertElems + 2.0 * perm.kept() * (hidden + 2.0 * inter + hidden);
    return row(h, tensorCore ? "moe experts tc" : "moe experts", String.format("tokens=%d E=%d k=%d h=%d inter=%d %s, %d experts read", live,
        experts, k, hidden, inter, capacityFactor > 0 ? "capacity:" + capacityFactor : "topk", busy), err,
        Compare.BF16, "", us, bytes, 2.0 * perm.kept() * expertElems);
  }

  /** The device buffers of a permutation already run (and its params, to time it again). */
  /**
   * One grouped-expert case and its CPU reference: {@code live} rows and 3 padding rows of bf16
   * inputs, skewed routing with weights, the permutation (capacity-bounded when {@code
   * capacityFactor} > 0), the seed of the experts' hashed weights, how many experts took tokens, and
   * the combined rows the device must give (padding rows zero).
   */
  record ExpertCase(int rows, float[] x, int[] choice, float[] weights, ExpertPermutation perm, long seed, int busy,
      float[] expected) {

    static ExpertCase draw(DeviceHarness h, int live, int experts, int k, int hidden, int inter,
        double capacityFactor) {
      int rows = live + 3;
      Random r = h.random();
      float[] x = h.randomBf16(rows * hidden, 1.0);
      int[] choice = skewedRouting(r, rows, experts, k);
      float[] weights = new float[rows * k];
      for (int i = 0; i < weights.length; i++) weights[i] = (float) (0.1 + r.nextDouble());
      int cap = capacityFactor > 0 ? ExpertPermutation.capacity(capacityFactor, live, k, experts)
          : ExpertPermutation.UNBOUNDED;
      ExpertPermutation perm = ExpertPermutation.of(Arrays.copyOf(choice, live * k), live, k, experts, cap);
      long seed = r.nextLong();
      float[][] gate = new float[experts][];
      float[][] up = new float[experts][];
      float[][] down = new float[experts][];
      int busy = 0;
      for (int e = 0; e < experts; e++) {
        if (perm.count(e) == 0) continue;
        busy++;
        gate[e] = hashed(seed, Kind.EXPERT_GATE, e, inter * hidden, hidden);
        up[e] = hashed(seed, Kind.EXPERT_UP, e, inter * hidden, hidden);
        down[e] = hashed(seed, Kind.EXPERT_DOWN, e, hidden * inter, inter);
      }
      float[] xs = new float[perm.kept() * hidden];
      perm.permute(x, hidden, xs);
      float[] ys = new float[perm.kept() * hidden];
      GroupedExperts.forward(xs, perm.offsets(), gate, up, down, hidden, inter, ys);
      float[] expected = new float[rows * hidden];
      ExpertPermutation.combine(ys, perm.rowOf(), Arrays.copyOf(weights, live * k), live, k, hidden, expected);
      return new ExpertCase(rows, x, choice, weights, perm, seed, busy, expected);
    }
  }

  record Device(MoePermuteParams params, DeviceBuffer offsets, DeviceBuffer tokenOf, DeviceBuffer rowOf,
      DeviceBuffer load, DeviceBuffer live, DeviceBuffer active) {}

  static Device permuteOnDevice(DeviceHarness h, int[] choice, int rows, int live, int experts, int k,
      double capacityFactor) {
    DeviceBuffer offsets = h.poisonedInts(experts + 1L);
    DeviceBuffer tokenOf = h.poisonedInts((long) rows * k);
    DeviceBuffer rowOf = h.poisonedInts((long) rows * k);
    DeviceBuffer load = h.poisonedInts(2L * experts);
    DeviceBuffer liveRows = h.ints(new int[] {live});
    long capacities = 0;
    if (capacityFactor > 0) {
      int[] caps = new int[rows + 1];
      for (int n = 0; n <= rows; n++) caps[n] = ExpertPermutation.capacity(capacityFactor, n, k, experts);
      capacities = h.ints(caps).address();
    }
    DeviceBuffer active = h.poisonedInts(experts + 1L);
    MoePermuteParams p = new MoePermuteParams(offsets.address(), tokenOf.address(), rowOf.address(), load.address(),
        h.ints(choice).address(), liveRows.address(), capacities, active.address(), rows, experts, k);
    h.launch(Kernel.MOE_PERMUTE, p.launch(), p);
    return new Device(p, offsets, tokenOf, rowOf, load, liveRows, active);
  }

  /**
   * k distinct experts per token, drawn with a skew (low ids busier, as a trained router's favourite
   * experts are), so some experts get many rows, some none.
   */
  static int[] skewedRouting(Random r, int tokens, int experts, int k) {
    int[] out = new int[tokens * k];
    boolean[] taken = new boolean[experts];
    for (int t = 0; t < tokens; t++) {
      Arrays.fill(taken, false);
      for (int j = 0; j < k; j++) {
        int e;
        do {
          e = (int) (Math.pow(r.nextDouble(), 2.5) * experts);
        } while (taken[e]);
        taken[e] = true;
        out[t * k + j] = e;
      }
    }
    return out;
  }

  /** An expert tensor of layer 0 as the CPU backend reads it, rounded to bf16 as the device holds it. */
  static float[] hashed(long seed, Kind kind, int expert, int elements, int fanIn) {
    float[] w = new float[elements];
    DummyWeights.fill(w, seed, DummyWeights.tensorId(kind, 0, expert), (float) Math.sqrt(3.0 / fanIn), 0f);
    for (int i = 0; i < w.length; i++) w[i] = Bf16.round(w[i]);
    return w;
  }

  static void fill(DeviceHarness h, long out, long seed, Kind kind, int expert, int elements, int fanIn) {
    DummyWeightsParams p = DummyWeightsParams.of(out, elements, seed, DummyWeights.tensorId(kind, 0, expert), 0,
        (float) Math.sqrt(3.0 / fanIn), 0f);
    h.launch(Kernel.DUMMY_WEIGHTS, p.launch(), p);
  }

  private static String mismatch(String what, int[] got, int[] want, int n) {
    for (int i = 0; i < n; i++) {
      if (got[i] != want[i]) return what + "[" + i + "] = " + got[i] + ", reference " + want[i];
    }
    return "";
  }

  private static CheckResult row(DeviceHarness h, String kernel, String shape, double err, double tolerance,
      String failure, double us, double bytes) {
    return row(h, kernel, shape, err, tolerance, failure, us, bytes, 0);
  }

  static CheckResult row(DeviceHarness h, String kernel, String shape, double err, double tolerance,
      String failure, double us, double bytes, double flops) {
    CheckResult r = h.result(kernel, shape, err, tolerance, us, bytes, flops);
    return failure.isEmpty() ? r : new CheckResult(kernel, shape, err, tolerance, failure, us, bytes, flops,
        r.floorUs());
  }
}
