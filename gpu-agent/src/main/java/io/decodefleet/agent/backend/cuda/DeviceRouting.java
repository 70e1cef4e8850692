package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.reference.MoeRouter;
import java.util.function.Function;

/**
 * A mixture of experts' routing on the device, for the parity tool: the experts and weights the
 * router kernel chose in the last step, layer by layer, or a routing given from the host (the CPU
 * backend's) for the next steps to use in place of the router's, so that a bf16 near tie between
 * two experts does not send a token to another expert than the float32 reference did and the
 * layers after the router are compared on the same routing. Every call synchronises the stream.
 */
public final class DeviceRouting {

  private final MoeLayerKernels moe;
  private final Function<ForwardBatch, int[]> launchOrder; // a step's batch row at each launch row

  DeviceRouting(MoeLayerKernels moe, Function<ForwardBatch, int[]> launchOrder) {
    this.moe = moe;
    this.launchOrder = launchOrder;
  }

  /**
   * The routing of the last step, which ran {@code batch}, in the batch's row order: the device
   * routes its launch rows, which the step's plan may have reordered (a continued span's rows
   * grouped ahead of decode rows listed before them).
   */
  public MoeRouter.Routing[] last(ForwardBatch batch) {
    int[] order = launchOrder.apply(batch);
    MoeRouter.Routing[] launched = last(order.length);
    MoeRouter.Routing[] out = new MoeRouter.Routing[launched.length];
    for (int l = 0; l < out.length; l++) out[l] = permute(launched[l], order, false);
    return out;
  }

  /**
   * As {@link #give(MoeRouter.Routing[])} for steps that run {@code batch}: {@code perLayer} holds
   * the batch's rows in its own order and goes to the device in the step's launch order.
   */
  public void give(MoeRouter.Routing[] perLayer, ForwardBatch batch) {
    int[] order = launchOrder.apply(batch);
    MoeRouter.Routing[] launched = new MoeRouter.Routing[perLayer.length];
    for (int l = 0; l < perLayer.length; l++) launched[l] = permute(perLayer[l], order, true);
    give(launched);
  }

  /**
   * Rows of {@code r} moved by {@code order} (launch row i is batch row order[i]): to launch order
   * when {@code toLaunch}, else back to the batch's order.
   */
  static MoeRouter.Routing permute(MoeRouter.Routing r, int[] order, boolean toLaunch) {
    if (r.tokens() != order.length) {
      throw new IllegalArgumentException("a routing of " + r.tokens() + " rows for a step of " + order.length);
    }
    int k = r.k();
    int[] experts = new int[r.experts().length];
    float[] weights = new float[r.weights().length];
    for (int i = 0; i < order.length; i++) {
      int from = (toLaunch ? order[i] : i) * k;
      int to = (toLaunch ? i : order[i]) * k;
      System.arraycopy(r.experts(), from, experts, to, k);
      System.arraycopy(r.weights(), from, weights, to, k);
    }
    return new MoeRouter.Routing(r.tokens(), k, experts, weights);
  }

  /** The last step's first {@code rows} rows' routing, one {@link MoeRouter.Routing} a layer. */
  public MoeRouter.Routing[] last(int rows) {
    MoeLayerKernels.Routing r = moe.routing(rows);
    int k = r.experts()[0].length / Math.max(1, rows);
    MoeRouter.Routing[] out = new MoeRouter.Routing[r.experts().length];
    for (int l = 0; l < out.length; l++) out[l] = new MoeRouter.Routing(rows, k, r.experts()[l], r.weights()[l]);
    return out;
  }

  /**
   * From the next step on, every layer's first {@code perLayer[l].tokens()} rows take {@code
   * perLayer[l]}'s experts and weights instead of the router's; null: the router decides again.
   */
  public void give(MoeRouter.Routing[] perLayer) {
    if (perLayer == null) {
      moe.give(0, null, null);
      return;
    }
    int[][] experts = new int[perLayer.length][];
    float[][] weights = new float[perLayer.length][];
    for (int l = 0; l < perLayer.length; l++) {
      experts[l] = perLayer[l].experts();
      weights[l] = perLayer[l].weights();
    }
    moe.give(perLayer[0].tokens(), experts, weights);
  }
}
