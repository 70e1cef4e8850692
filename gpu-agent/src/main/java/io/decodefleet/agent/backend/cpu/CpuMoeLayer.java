package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.ExpertLoad;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.engine.tp.ExpertShard;
import io.decodefleet.kernels.reference.ExpertPermutation;
import io.decodefleet.kernels.reference.GroupedExperts;
import io.decodefleet.kernels.reference.Matmul;
import io.decodefleet.kernels.reference.MoeRouter;

/**
 * The CPU backend's mixture-of-experts MLP, from the kernels module's reference: router, tokens
 * grouped by expert (with the router policy's capacity), the routed experts' SwiGLU GEMMs, the
 * weighted combine; and the tokens each expert took and dropped, per layer, in the step.
 *
 * <p>Expert parallelism: each rank routes the rows it attends and hands them (hidden states,
 * experts, weights, their rows in the step's batch) to the group; every rank then groups the whole
 * batch's tokens by expert in batch order (so capacity drops the same tokens as on one device), runs
 * its own experts over their rows, and hands those outputs back; each rank combines its own rows
 * from the outputs of the ranks that hold their experts. Every row's math is the one-device math, so
 * EP=K gives the tokens of EP=1 bit for bit.
 */
final class CpuMoeLayer {

  /** What a rank hands the group before the experts run. */
  private record Dispatch(
      int[] rows, // (n) each row's index in the step's batch
      float[] x, // (n, hidden)
      int[] experts, // (n, k)
      float[] weights) {} // (n, k)

  private final MoeConfig moe; // a tensor-parallel rank's: its slice of each expert's width
  private final int hidden;
  private final int layers;
  private final MoeRouterPolicy policy;
  private final CpuTensorGroup group; // null unless expert-parallel
  private final ExpertShard shard; // null unless expert-parallel
  private long[] tokens; // (layers, experts) this step; null while not counting
  private long[] dropped; // (layers, experts) this step
  private ExpertLoad last;
  private MoeRouter.Routing[] routing; // (layers) the last step's, as the router chose

  /** @param config the rank's model; {@code group} and {@code shard} null unless expert-parallel */
  CpuMoeLayer(ModelConfig config, MoeRouterPolicy policy, CpuTensorGroup group, ExpertShard shard) {
    this.moe = config.moe();
    this.hidden = config.hiddenSize();
    this.layers = config.numHiddenLayers();
    this.policy = policy;
    this.group = group;
    this.shard = shard;
  }

  /** Starts a step: its expert counts are kept when {@code counted} (not for the dense recompute). */
  void beginStep(boolean counted) {
    lastLoad();
    int cells = layers * moe.numExperts();
    tokens = counted ? new long[cells] : null;
    dropped = counted ? new long[cells] : null;
    routing = new MoeRouter.Routing[layers];
  }

  /** The last step's routing (the dense recompute's included), a layer each; null before the first. */
  MoeRouter.Routing[] lastRouting() {
    return routing == null ? null : routing.clone();
  }

  /** The last counted step's load; null before the first. */
  ExpertLoad lastLoad() {
    if (tokens != null) last = new ExpertLoad(layers, moe.numExperts(), tokens.clone(), dropped.clone());
    return last;
  }

  /**
   * Layer {@code layer}'s sparse MLP over this rank's {@code n} rows.
   *
   * @param x (n, hidden) the post-attention normed hidden states
   * @param rows (n) each row's index in the step's batch, ascending
   * @param out (n, hidden) the weighted sum of each row's experts' outputs
   */
  void forward(int layer, CpuWeights.Experts w, float[] x, int n, int[] rows, float[] out) {
    int numExperts = moe.numExperts();
    int k = moe.expertsPerToken();
    float[] logits = new float[n * numExperts]; // (n, experts)
    Matmul.matmulTransposed(x, w.router(), n, numExperts, hidden, logits);
    MoeRouter.Routing routing = MoeRouter.route(logits, n, numExperts, k, moe.normTopkProb());
    this.routing[layer] = routing;
    if (group == null) {
      ExpertPermutation p = ExpertPermutation.of(routing.experts(), n, k, numExperts, capacity(n));
      float[] ys = experts(w, x, p, 0, numExperts);
      ExpertPermutation.combine(ys, p.rowOf(), routing.weights(), n, k, hidden, out);
      count(layer, p);
      return;
    }
    Object[] sent = group.exchange(shard.rank(), new Dispatch(rows, x, routing.experts(), routing.weights()),
        "expert dispatch of layer " + layer);
    int total = 0;
    for (Object o : sent) total += ((Dispatch) o).rows.length;
    int[] experts = new int[total * k]; // (batch, k) in batch order
    float[] xs = new float[total * hidden]; // (batch, hidden)
    for (Object o : sent) {
      Dispatch d = (Dispatch) o;
      for (int i = 0; i < d.rows.length; i++) {
        System.arraycopy(d.experts, i * k, experts, d.rows[i] * k, k);
        System.arraycopy(d.x, i * hidden, xs, d.rows[i] * hidden, hidden);
      }
    }
    ExpertPermutation p = ExpertPermutation.of(experts, total, k, numExperts, capacity(total));
    float[] mine = experts(w, xs, p, shard.firstExpert(numExperts), shard.endExpert(numExperts));
    Object[] outputs = group.exchange(shard.rank(), mine, "expert combine of layer " + layer);
    float[] ys = new float[p.kept() * hidden]; // (kept, hidden): the rows of this rank's tokens
    int[] rowOf = new int[n * k]; // (n, k)
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        int row = p.rowOf()[rows[i] * k + j];
        rowOf[i * k + j] = row;
        if (row < 0) continue;
        float[] from = (float[]) outputs[shard.owner(experts[rows[i] * k + j], numExperts)];
        System.arraycopy(from, row * hidden, ys, row * hidden, hidden);
      }
    }
    ExpertPermutation.combine(ys, rowOf, routing.weights(), n, k, hidden, out);
    count(layer, p);
  }

  /** (kept, hidden): experts {@code [from, to)}'s outputs over their rows of {@code p}; zeros elsewhere. */
  private float[] experts(CpuWeights.Experts w, float[] x, ExpertPermutation p, int from, int to) {
    float[] xs = new float[p.kept() * hidden];
    p.permute(x, hidden, xs);
    float[] ys = new float[p.kept() * hidden];
    GroupedExperts.forward(xs, p.offsets(), w.gate(), w.up(), w.down(), hidden, moe.moeIntermediateSize(), ys, from,
        to);
    return ys;
  }

  private int capacity(int batchTokens) {
    return policy.capacityBounded()
        ? ExpertPermutation.capacity(policy.capacityFactor(), batchTokens, moe.expertsPerToken(), moe.numExperts())
        : ExpertPermutation.UNBOUNDED;
  }

  private void count(int layer, ExpertPermutation p) {
    if (tokens == null) return;
    int base = layer * moe.numExperts();
    for (int e = 0; e < moe.numExperts(); e++) {
      tokens[base + e] += p.count(e);
      dropped[base + e] += p.dropped()[e];
    }
  }
}
