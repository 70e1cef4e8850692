package io.decodefleet.agent.backend.cuda;

import io.decodefleet.kernels.reference.MoeRouter;

/**
 * A mixture of experts' routing on the device, for the parity tool: the experts and weights the
 * router kernel chose in the last step, layer by layer, or a routing given from the host (the CPU
 * backend's) for the next steps to use in place of the router's, so that a bf16 near tie between
 * two experts does not send a token to another expert than the float32 reference did and the
 * layers after the router are compared on the same routing. Every call synchronises the stream.
 */
public final class DeviceRouting {

  private final MoeLayerKernels moe;

  DeviceRouting(MoeLayerKernels moe) {
    this.moe = moe;
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
