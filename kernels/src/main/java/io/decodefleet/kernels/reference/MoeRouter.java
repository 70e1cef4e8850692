package io.decodefleet.kernels.reference;

/**
 * The router of a mixture-of-experts layer: each token's gate logits over the experts, softmax, its
 * top-k experts, and their weights (Mixtral's and Qwen3-MoE's {@code SparseMoeBlock}).
 *
 * <p><b>Tie rule.</b> The top-k are picked one at a time, each the largest remaining probability;
 * among equal probabilities the lower expert id wins (as {@code torch.topk} on the CPU does for the
 * usual sizes, and as any sorted-by-(probability desc, id asc) order would). Slot 0 holds the most
 * probable expert, and slots keep that order everywhere after (the combine sums in slot order).
 */
public final class MoeRouter {

  private MoeRouter() {}

  /**
   * Each token's chosen experts and their weights.
   *
   * @param experts (tokens, k) expert ids, most probable first
   * @param weights (tokens, k) their weights: the softmax probabilities, renormalised over the k
   *     when the router does so
   */
  public record Routing(int tokens, int k, int[] experts, float[] weights) {
    public int expert(int token, int slot) {
      return experts[token * k + slot];
    }

    public float weight(int token, int slot) {
      return weights[token * k + slot];
    }
  }

  /**
   * Routes {@code tokens} tokens from their gate logits.
   *
   * <p>Softmax in float64 over all experts, shifted by the row's max; each probability rounded to
   * float32. The exponentials are summed in a fixed order that one warp of 32 lanes runs in
   * parallel ({@link #sumInLaneOrder}). With {@code normTopkProb} the k chosen probabilities are divided by their float32 sum
   * (accumulated in slot order), so that they add up to 1.
   *
   * @param logits (tokens, numExperts) float32: hidden · routerᵀ
   */
  public static Routing route(
      float[] logits, // (tokens, numExperts) float32
      int tokens,
      int numExperts,
      int k,
      boolean normTopkProb) {
    Checks.nonNegative(tokens, "tokens");
    Checks.positive(numExperts, "numExperts");
    if (k < 1 || k > numExperts) throw new IllegalArgumentException("k must be in 1.." + numExperts + " but is " + k);
    Checks.length(logits, (long) tokens * numExperts, "logits");
    int[] experts = new int[tokens * k];
    float[] weights = new float[tokens * k];
    float[] probs = new float[numExperts];
    boolean[] taken = new boolean[numExperts];
    for (int t = 0; t < tokens; t++) {
      softmax(logits, t * numExperts, numExperts, probs);
      java.util.Arrays.fill(taken, false);
      float sum = 0f;
      for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < numExperts; e++) {
          if (!taken[e] && (best < 0 || probs[e] > probs[best])) best = e; // strict: the lower id keeps a tie
        }
        taken[best] = true;
        experts[t * k + j] = best;
        weights[t * k + j] = probs[best];
        sum += probs[best];
      }
      if (normTopkProb) {
        for (int j = 0; j < k; j++) weights[t * k + j] /= sum;
      }
    }
    return new Routing(tokens, k, experts, weights);
  }

  /** {@code out[e] = exp(x[e] - max) / sum exp(x - max)} over {@code x[base, base + n)}. */
  private static void softmax(float[] x, int base, int n, float[] out) {
    float max = Float.NEGATIVE_INFINITY;
    for (int e = 0; e < n; e++) max = Math.max(max, x[base + e]);
    double[] exps = new double[n];
    for (int e = 0; e < n; e++) exps[e] = Math.exp((double) x[base + e] - max);
    double sum = sumInLaneOrder(exps);
    for (int e = 0; e < n; e++) out[e] = (float) (exps[e] / sum);
  }

  /** Lanes of the warp that sums a row's exponentials. */
  public static final int LANES = 32;

  /**
   * The sum of {@code v} in the router's order: expert {@code e} belongs to lane
   * {@code (e % 128) / 4} (a lane holds 4 consecutive experts of every 128), each lane adds its
   * experts in ascending id from 0.0, and the 32 lane sums meet in an xor butterfly: at offsets 16,
   * 8, 4, 2, 1 every lane adds the sum of lane {@code lane ^ offset} to its own. Addition commutes,
   * so every lane ends with the same value, lane 0's. A warp runs this in 8 + 5 dependent additions
   * where one lane summing in expert order takes 128 at 128 experts.
   */
  public static double sumInLaneOrder(double[] v) {
    double[] lane = new double[LANES];
    for (int e = 0; e < v.length; e++) lane[(e % 128) / 4] += v[e];
    for (int offset = LANES / 2; offset > 0; offset >>= 1) {
      double[] next = new double[LANES];
      for (int l = 0; l < LANES; l++) next[l] = lane[l] + lane[l ^ offset];
      lane = next;
    }
    return lane[0];
  }
}
