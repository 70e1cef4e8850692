package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.DummyWeights.Kind;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.MoeCombineParams;
import io.decodefleet.kernels.cuda.MoeExpertGemmParams;
import io.decodefleet.kernels.reference.ExpertPermutation;
import io.decodefleet.kernels.reference.GroupedExperts;

/**
 * The grouped expert GEMMs and the combine as the K ranks of an expert-parallel group run them:
 * rank r's weights hold only experts {@code [r E/K, (r+1) E/K)}, its GEMMs are launched over
 * those experts with the offsets read from its first, and its combine sums only the pairs routed
 * to them into float32. The ranks' partials, added on the host (what the all-reduce does), must
 * give one device's combined rows ({@link GroupedExperts}, {@link ExpertPermutation#combine}).
 */
final class MoeExpertParallelChecks {

  private MoeExpertParallelChecks() {}

  static CheckResult experts(DeviceHarness h, int live, int experts, int k, int hidden, int inter,
      double capacityFactor, int ranks, boolean tensorCore) {
    MoeChecks.ExpertCase c = MoeChecks.ExpertCase.draw(h, live, experts, k, hidden, inter, capacityFactor);
    int rows = c.rows();
    int[] choice = c.choice();
    long seed = c.seed();
    float[] expected = c.expected();
    float[] x = c.x();
    float[] weights = c.weights();

    MoeChecks.Device d = MoeChecks.permuteOnDevice(h, choice, rows, live, experts, k, capacityFactor);
    DeviceBuffer xd = h.bf16(x);
    DeviceBuffer routing = h.ints(choice);
    DeviceBuffer weightsD = h.f32(weights);
    int per = experts / ranks;
    float[] sum = new float[rows * hidden];
    Kernel guKernel = tensorCore ? Kernel.MOE_EXPERTS_GATE_UP_TC : Kernel.MOE_EXPERTS_GATE_UP;
    Kernel dnKernel = tensorCore ? Kernel.MOE_EXPERTS_DOWN_TC : Kernel.MOE_EXPERTS_DOWN;
    String failure = "";
    for (int rank = 0; rank < ranks; rank++) {
      int lo = rank * per;
      // Only this rank's experts, the first at offset 0 (as an expert-parallel WeightLayout packs them).
      DeviceBuffer gateUpW = h.track(h.context().allocate(2L * per * 2 * inter * hidden));
      DeviceBuffer downW = h.track(h.context().allocate(2L * per * hidden * inter));
      for (int i = 0; i < per; i++) {
        int e = lo + i;
        MoeChecks.fill(h, gateUpW.address(2L * i * 2 * inter * hidden), seed, Kind.EXPERT_GATE, e, inter * hidden,
            hidden);
        MoeChecks.fill(h, gateUpW.address(2L * (i * 2L + 1) * inter * hidden), seed, Kind.EXPERT_UP, e,
            inter * hidden, hidden);
        MoeChecks.fill(h, downW.address(2L * i * hidden * inter), seed, Kind.EXPERT_DOWN, e, hidden * inter, inter);
      }
      // Rows another rank's experts own stay poisoned: the combine must not read them.
      DeviceBuffer act = h.poisonedBf16((long) rows * k * inter);
      DeviceBuffer y = h.poisonedBf16((long) rows * k * hidden);
      DeviceBuffer out = h.poisonedF32((long) rows * hidden);
      long offsets = d.offsets().address(4L * lo);
      MoeExpertGemmParams gu = MoeExpertGemmParams.gateUp(act.address(), xd.address(), gateUpW.address(), offsets,
          d.tokenOf().address(), inter, hidden, hidden, per);
      MoeExpertGemmParams dn = MoeExpertGemmParams.down(y.address(), act.address(), downW.address(), offsets, hidden,
          inter, per);
      MoeCombineParams cb = MoeCombineParams.partial(out.address(), y.address(), d.rowOf().address(),
          weightsD.address(), d.live().address(), routing.address(), rows, hidden, k, lo, lo + per);
      h.launch(guKernel, gu.launch(guKernel, rows), gu);
      h.launch(dnKernel, dn.launch(dnKernel, rows), dn);
      h.launch(Kernel.MOE_COMBINE, cb.launch(), cb);
      float[] partial = h.readF32(out, rows * hidden);
      for (int i = 0; i < sum.length; i++) {
        if (Float.isNaN(partial[i]) && failure.isEmpty()) {
          failure = "rank " + rank + " row " + i / hidden + " is NaN: it read another rank's (poisoned) rows";
        }
        sum[i] += partial[i];
      }
    }
    double err = Compare.relError(sum, expected);
    return MoeChecks.row(h, tensorCore ? "moe experts ep tc" : "moe experts ep", String.format(
        "tokens=%d E=%d k=%d h=%d inter=%d %s, %d ranks", live, experts, k, hidden, inter,
        capacityFactor > 0 ? "capacity:" + capacityFactor : "topk", ranks), err, Compare.BF16, failure, 0, 0, 0);
  }
}
