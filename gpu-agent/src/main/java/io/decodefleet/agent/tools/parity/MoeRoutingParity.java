package io.decodefleet.agent.tools.parity;

import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.DeviceRouting;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.reference.MoeRouter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Parity of a mixture of experts: the router, then everything after it on the CPU's routing.
 *
 * <p>A bf16 device and the float32 CPU reference send a token to different experts wherever two
 * experts' probabilities are within the rounding of each other (tiny-moe with bf16-rounded weights
 * alone, on the CPU backend, moves 11 of 128 positions' logits past 3e-2), and the swapped expert's
 * output is a different vector, not a nearby one: such rows would fail the logits tolerance with no
 * kernel at fault. So each step runs twice on the device: once routing on its own, whose choices are
 * compared with the CPU's (rows whose experts, as sets, agree in the first layer, where both routers
 * read the same inputs up to bf16: at least {@link #MIN_FIRST_LAYER_AGREEMENT}), then with the CPU's
 * routing given to every layer ({@link DeviceRouting#give}), whose logits the caller compares at the
 * usual tolerance: permutation, expert GEMMs, combine and the rest of the model on the same routing.
 */
final class MoeRoutingParity {

  /** Share of rows whose first-layer experts the device router must choose as the CPU did. */
  static final double MIN_FIRST_LAYER_AGREEMENT = 0.9;

  private final List<MoeRouter.Routing[]> cpuSteps; // per step, per layer
  private final MoeRouter.Routing[] cpuDense;
  private int rows;
  private int firstLayerAgree;
  private long pairs;
  private long pairsAgree;

  MoeRoutingParity(List<MoeRouter.Routing[]> cpuSteps, MoeRouter.Routing[] cpuDense) {
    this.cpuSteps = cpuSteps;
    this.cpuDense = cpuDense;
  }

  MoeRouter.Routing[] cpuDense() {
    return cpuDense;
  }

  /** Runs step {@code step} with the device's own routing and tallies it; then gives it the CPU's. */
  void beforeStep(CudaBackend cuda, ForwardBatch batch, int step) {
    DeviceRouting device = cuda.routing();
    device.give(null);
    cuda.forward(batch);
    tally(device.last(batch), cpuSteps.get(step));
    device.give(cpuSteps.get(step), batch);
  }

  /** Gives the dense oracle the CPU's routing of its tokens. */
  void beforeDense(CudaBackend cuda) {
    cuda.routing().give(cpuDense);
  }

  void tally(MoeRouter.Routing[] device, MoeRouter.Routing[] cpu) {
    for (int l = 0; l < cpu.length; l++) {
      for (int t = 0; t < cpu[l].tokens(); t++) {
        boolean same = sameExperts(device[l], cpu[l], t);
        pairs++;
        pairsAgree += same ? 1 : 0;
        if (l == 0) {
          rows++;
          firstLayerAgree += same ? 1 : 0;
        }
      }
    }
  }

  /** Whether token {@code t}'s k experts are the same set in both (slot order may differ at a near tie). */
  static boolean sameExperts(MoeRouter.Routing a, MoeRouter.Routing b, int t) {
    int k = b.k();
    int[] x = Arrays.copyOfRange(a.experts(), t * k, t * k + k);
    int[] y = Arrays.copyOfRange(b.experts(), t * k, t * k + k);
    Arrays.sort(x);
    Arrays.sort(y);
    return Arrays.equals(x, y);
  }

  /** e.g. "router: first layer 212 of 214 rows as the CPU's, all layers 97.1% of row-layers". */
  String summary() {
    return String.format(Locale.ROOT, "router: first layer %d of %d rows as the CPU's, all layers %.1f%% of"
        + " row-layers", firstLayerAgree, rows, pairs == 0 ? 100.0 : 100.0 * pairsAgree / pairs);
  }

  /** Why the router fails, or empty. */
  String failure() {
    return rows > 0 && firstLayerAgree < MIN_FIRST_LAYER_AGREEMENT * rows
        ? summary() + ": below " + Math.round(100 * MIN_FIRST_LAYER_AGREEMENT) + "% in the first layer" : "";
  }
}
