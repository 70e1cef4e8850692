package io.decodefleet.kernels.reference;

/** The gated activation of the Llama MLP. */
public final class SwiGlu {

  private SwiGlu() {}

  /**
   * {@code out[i] = silu(gate[i]) * up[i]} with {@code silu(x) = x / (1 + exp(-x))}.
   *
   * <p>{@code out} may alias {@code gate} or {@code up}. Written as {@code x / (1 + exp(-x))}
   * rather than {@code x * sigmoid(x)} via {@code exp(x)}: for very negative x, {@code exp(-x)}
   * overflows to infinity and the quotient is a clean -0, where the other form would give {@code
   * inf / inf}.
   *
   * @param gate (count) float32
   * @param up (count) float32
   * @param out (count) float32
   */
  public static void forward(
      float[] gate, // (count) float32
      float[] up, // (count) float32
      int count,
      float[] out) { // (count) float32
    Checks.nonNegative(count, "count");
    Checks.length(gate, count, "gate");
    Checks.length(up, count, "up");
    Checks.length(out, count, "out");
    for (int i = 0; i < count; i++) {
      float g = gate[i];
      float silu = (float) (g / (1.0 + Math.exp(-g)));
      out[i] = silu * up[i];
    }
  }
}
