package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * One decode-attention plan as the benches time it: the plan's device scratch (work items, partial
 * bases, poisoned partial outputs and log-sum-exps, zeroed counters), shared by every input set, and
 * the launches of one timed repetition (the persistent kernel, or split then combine).
 */
record DecodeAttentionRun(Kernel main, int slots, DecodeAttentionPlan plan, DeviceBuffer items, DeviceBuffer bases,
    DeviceBuffer partOut, DeviceBuffer partLse, DeviceBuffer counters) {

  /** The plan of {@code contexts} over {@code kvHeads} for {@code main}, with its scratch on {@code h}'s GPU. */
  static DecodeAttentionRun of(DeviceHarness h, Kernel main, int[] contexts, int qHeads, int kvHeads, int headDim) {
    int slots = h.kernels().slots(main);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(contexts, kvHeads, slots);
    int group = qHeads / kvHeads;
    return new DecodeAttentionRun(main, slots, plan, h.ints(plan.workItems()), h.ints(plan.partialBase()),
        h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group * headDim)),
        h.poisonedF32(Math.max(1L, (long) plan.numPartials() * group)), h.zeroedInts(plan.counterCount()));
  }

  /** One input set's buffers around this run's scratch. */
  DecodeAttentionParams.Buffers buffers(long out, long queries, long k, long v, long tables, long contextLens) {
    return new DecodeAttentionParams.Buffers(out, queries, k, v, tables, contextLens, items.address(),
        bases.address(), partOut.address(), partLse.address(), counters.address());
  }

  /** The launches of one step's attention with {@code p}: persistent, or split then (where needed) combine. */
  void launch(DeviceHarness h, DecodeAttentionParams p, boolean persistent) {
    if (persistent) {
      h.launch(main, plan.persistentLaunch(main, slots), p);
    } else {
      h.launch(main, plan.splitLaunch(main), p);
      if (plan.needsCombine()) h.launch(p.combineKernel(), plan.combineLaunch(p.combineKernel()), p);
    }
  }
}
