package io.decodefleet.kernels.reference;

import java.util.Arrays;

/**
 * Picks one token from a row of logits by temperature, top-k and top-p, with a draw whose
 * randomness depends only on (seed, position, token id): the CPU reference of sample.cu.
 *
 * <p>The rule, for logits l (vocab) float32, temperature T &gt; 0, top_k K (off unless 0 &lt; K
 * &lt; the number of non-NaN logits), top_p P (off at 1), seed S and position n:
 * <ol>
 *   <li>z_i = l_i / T in float32. A NaN logit is never kept.
 *   <li>top-k: τk = the K-th largest z, counting duplicates; keep i with z_i ≥ τk.
 *   <li>top-p, when P &lt; 1 and m = max z is finite: e_i = exp(z_i − m) over kept i, total = Σ e_i;
 *       τp = the largest kept value v with Σ_{kept, z_i ≥ v} e_i ≥ P·total; keep z_i ≥ τp, so tied
 *       values stay or go together.
 *   <li>token = the kept i with the largest z_i + g_i, ties to the lowest id, where g_i = −log(−log
 *       u_i) and u_i = ((x &gt;&gt; 8) + 0.5) / 2^24 with x the first word of Philox4x32-10 at
 *       counter (i, n, 0, 0) and key (low, high 32 bits of S). No kept token: -1.
 * </ol>
 * The Gumbel-max draw samples exactly softmax(z) over the kept set, needs no sorted or normalised
 * probabilities (every token is scored independently, which is what a GPU block wants) and makes
 * the token a function of the logits and (S, n): the CUDA backend draws what this draws up to the
 * float rounding of logits, and a sequence continued on another agent draws as it would have.
 *
 * <p>u is never rounded: for u &lt; 1/2, −log u is taken of u, exact in float; above, as
 * −log1p(−(1 − u)) of 1 − u, also exact. (Rounding u to float would turn the top cell into 1 and
 * g into infinity, and coarsen the largest g, which are the ones that win.) So g lies in
 * [−log(−log 2^-25), −log(−log(1 − 2^-25))] = [−2.853, 17.33].
 *
 * <p>Greedy (T = 0, or K = 1): the arg-max of the logits, as {@link Argmax}.
 */
public final class TokenSampling {

  private TokenSampling() {}

  /**
   * The chosen token with the two best perturbed scores z + g (for greedy rows: the two best
   * logits), so that a comparison can tell a float near tie from a real disagreement.
   *
   * @param token the chosen id relative to the row, or -1 when no logit is kept (all NaN)
   * @param runnerUp the second-best score, -inf when only one token is kept
   */
  public record Draw(int token, float best, float runnerUp) {}

  /**
   * The token drawn from {@code logits[offset, offset + vocab)} by the rule above.
   *
   * @param logits (rows, vocab) float32, or any flat float32 array
   * @param topK top-k cut, off when ≤ 0 or ≥ vocab
   * @param topP top-p cut in (0, 1], off at 1
   * @param position the position the sampled token takes in its sequence (the draw's counter)
   * @return id in {@code [0, vocab)}, or -1 if no logit is kept
   */
  public static int sample(float[] logits, int offset, int vocab, float temperature, float topP, int topK,
      long seed, int position) {
    return draw(logits, offset, vocab, temperature, topP, topK, seed, position).token();
  }

  /** {@link #sample} with the scores behind the choice. */
  public static Draw draw(float[] logits, int offset, int vocab, float temperature, float topP, int topK,
      long seed, int position) {
    checkRow(logits, offset, vocab, temperature, topP);
    if (temperature == 0f || topK == 1) {
      return greedy(logits, offset, vocab);
    }
    float[] z = scaled(logits, offset, vocab, temperature);
    float tau = threshold(z, topP, topK);
    int k0 = (int) seed;
    int k1 = (int) (seed >>> 32);
    int best = -1;
    float bestScore = Float.NEGATIVE_INFINITY;
    float runnerUp = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      if (!(z[i] >= tau)) {
        continue; // cut, or NaN
      }
      float score = z[i] + gumbel(Philox.first(i, position, 0, 0, k0, k1));
      // Strict '>' keeps the lowest id on ties; the first kept token always enters.
      if (best < 0 || score > bestScore) {
        if (best >= 0) {
          runnerUp = bestScore;
        }
        best = i;
        bestScore = score;
      } else if (score > runnerUp) {
        runnerUp = score;
      }
    }
    return new Draw(best, bestScore, runnerUp);
  }

  /**
   * How far {@code token} is from being the draw of this row: 0 when it is; otherwise, in units of
   * z = l / T, the larger of the drawn score's lead over its score z + g and the kept set's bound
   * above its z; for greedy params (T = 0 or K = 1), the arg-max logit's lead over its logit. NaN
   * when its logit is NaN or nothing is kept. Comparing two backends' tokens, a different token is a
   * near tie when its shortfall on the reference's logits is within their tolerance (over T).
   */
  public static float shortfall(float[] logits, int offset, int vocab, float temperature, float topP, int topK,
      long seed, int position, int token) {
    Draw d = draw(logits, offset, vocab, temperature, topP, topK, seed, position);
    if (d.token() == token) {
      return 0f;
    }
    if (d.token() < 0 || token < 0 || token >= vocab) {
      return Float.NaN;
    }
    if (temperature == 0f || topK == 1) {
      return d.best() - logits[offset + token];
    }
    float z = logits[offset + token] / temperature;
    float lead = d.best() - (z + gumbel(seed, token, position));
    float belowBound = threshold(logits, offset, vocab, temperature, topP, topK) - z;
    return Float.isNaN(z) ? Float.NaN : Math.max(lead, belowBound);
  }

  /**
   * The kept set's bound on the scaled logits of a row: token i is kept iff z_i ≥ the returned
   * value (-inf when neither cut applies; NaN z is never kept).
   *
   * @param logits (.., vocab) float32
   */
  public static float threshold(float[] logits, int offset, int vocab, float temperature, float topP, int topK) {
    checkRow(logits, offset, vocab, temperature, topP);
    if (!(temperature > 0f)) {
      throw new IllegalArgumentException("the kept set needs temperature > 0, got " + temperature);
    }
    return threshold(scaled(logits, offset, vocab, temperature), topP, topK);
  }

  /** Steps 2 and 3 of the rule on z (vocab) float32, by sorting: this is the reference, not the fast path. */
  private static float threshold(float[] z, float topP, int topK) {
    float[] sorted = nonNaN(z);
    Arrays.sort(sorted); // ascending; walked from the end
    int count = sorted.length;
    float tau = Float.NEGATIVE_INFINITY;
    int kept = count; // the kept values are sorted[count - kept, count)
    if (topK > 0 && topK < count) {
      tau = sorted[count - topK];
      kept = topK;
      while (kept < count && sorted[count - kept - 1] >= tau) {
        kept++; // values tied with the K-th largest stay
      }
    }
    float m = count == 0 ? Float.NEGATIVE_INFINITY : sorted[count - 1];
    if (topP < 1f && Float.isFinite(m)) {
      double total = 0;
      for (int j = count - kept; j < count; j++) {
        total += Math.exp(sorted[j] - m);
      }
      double target = (double) topP * total;
      double mass = 0;
      for (int j = count - 1; j >= count - kept; ) {
        float v = sorted[j];
        for (; j >= count - kept && sorted[j] == v; j--) {
          mass += Math.exp(sorted[j] - m);
        }
        if (mass >= target) {
          tau = v;
          break;
        }
      }
    }
    return tau;
  }

  /**
   * g = −log(−log u) for the Philox word {@code x}, u = ((x &gt;&gt;&gt; 8) + 0.5) / 2^24 (see the
   * class comment for why it is evaluated this way).
   */
  public static float gumbel(int x) {
    int k = x >>> 8; // 24 random bits
    float negLogU;
    if (k < 1 << 23) {
      negLogU = (float) -Math.log((2 * k + 1) * 0x1p-25f); // u = (2k + 1) / 2^25, exact
    } else {
      negLogU = (float) -Math.log1p(-(((1 << 25) - 2 * k - 1) * 0x1p-25f)); // 1 − u, exact
    }
    return (float) -Math.log(negLogU);
  }

  /** g of token {@code token} at {@code position} for {@code seed}: {@link #gumbel(int)} of its Philox word. */
  public static float gumbel(long seed, int token, int position) {
    return gumbel(Philox.first(token, position, 0, 0, (int) seed, (int) (seed >>> 32)));
  }

  private static Draw greedy(float[] logits, int offset, int vocab) {
    int token = Argmax.argmax(logits, offset, vocab);
    if (token < 0) {
      return new Draw(-1, Float.NaN, Float.NaN);
    }
    float runnerUp = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      if (i != token && logits[offset + i] > runnerUp) {
        runnerUp = logits[offset + i];
      }
    }
    return new Draw(token, logits[offset + token], runnerUp);
  }

  /** z = l / T, (vocab) float32. */
  private static float[] scaled(float[] logits, int offset, int vocab, float temperature) {
    float[] z = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      z[i] = logits[offset + i] / temperature;
    }
    return z;
  }

  /** The non-NaN values of {@code z}. */
  private static float[] nonNaN(float[] z) {
    float[] out = new float[z.length];
    int n = 0;
    for (float v : z) {
      if (!Float.isNaN(v)) {
        out[n++] = v;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static void checkRow(float[] logits, int offset, int vocab, float temperature, float topP) {
    Checks.nonNegative(offset, "offset");
    Checks.positive(vocab, "vocab");
    Checks.length(logits, (long) offset + vocab, "logits");
    if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be finite and >= 0 (0: greedy), got " + temperature);
    }
    if (!(topP > 0f && topP <= 1f)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
  }
}
