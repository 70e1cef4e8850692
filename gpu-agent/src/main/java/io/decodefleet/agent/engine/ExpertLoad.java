package io.decodefleet.agent.engine;

import java.util.Arrays;
import java.util.Locale;

/**
 * Tokens each expert of each layer took, and tokens it dropped over its capacity, summed over one
 * or more steps of a mixture-of-experts model. A token routed to k experts counts once at each.
 *
 * @param tokens (layers, experts) tokens taken
 * @param dropped (layers, experts) tokens dropped over capacity (all 0 with plain top-k)
 */
public record ExpertLoad(int layers, int experts, long[] tokens, long[] dropped) {

  public ExpertLoad {
    if (tokens.length != (long) layers * experts || dropped.length != tokens.length) {
      throw new IllegalArgumentException("expert load of " + layers + " layers x " + experts + " experts has "
          + tokens.length + " and " + dropped.length + " counts");
    }
  }

  /** No tokens yet. */
  public static ExpertLoad empty(int layers, int experts) {
    return new ExpertLoad(layers, experts, new long[layers * experts], new long[layers * experts]);
  }

  public long tokens(int layer, int expert) {
    return tokens[layer * experts + expert];
  }

  public long dropped(int layer, int expert) {
    return dropped[layer * experts + expert];
  }

  /** The sum of both; a load of another shape is refused. */
  public ExpertLoad plus(ExpertLoad o) {
    return combine(o, 1);
  }

  /** This minus an earlier total of the same counters. */
  public ExpertLoad minus(ExpertLoad o) {
    return combine(o, -1);
  }

  private ExpertLoad combine(ExpertLoad o, int sign) {
    if (o.layers != layers || o.experts != experts) {
      throw new IllegalArgumentException("expert loads of " + layers + "x" + experts + " and " + o.layers + "x"
          + o.experts + " do not add up");
    }
    long[] t = tokens.clone();
    long[] d = dropped.clone();
    for (int i = 0; i < t.length; i++) {
      t[i] += sign * o.tokens[i];
      d[i] += sign * o.dropped[i];
    }
    return new ExpertLoad(layers, experts, t, d);
  }

  /** Tokens all experts of {@code layer} took. */
  public long layerTokens(int layer) {
    long sum = 0;
    for (int e = 0; e < experts; e++) sum += tokens(layer, e);
    return sum;
  }

  /** Tokens all experts of {@code layer} dropped. */
  public long layerDropped(int layer) {
    long sum = 0;
    for (int e = 0; e < experts; e++) sum += dropped(layer, e);
    return sum;
  }

  /**
   * The layer's imbalance: the busiest expert's tokens over the mean (1 is perfectly even, {@code
   * experts} is every token at one expert); NaN for a layer that took none.
   */
  public double imbalance(int layer) {
    long max = 0;
    for (int e = 0; e < experts; e++) max = Math.max(max, tokens(layer, e));
    long sum = layerTokens(layer);
    return sum == 0 ? Double.NaN : max * (double) experts / sum;
  }

  /** The largest imbalance over the layers (NaN when no layer took a token). */
  public double maxImbalance() {
    double worst = Double.NaN;
    for (int l = 0; l < layers; l++) {
      double i = imbalance(l);
      if (!Double.isNaN(i) && !(i <= worst)) worst = i;
    }
    return worst;
  }

  /**
   * e.g. "expert load: 4 layers x 8 experts, 1024 token-expert pairs, imbalance max/mean 1.62 (worst
   * layer 2), 0 dropped".
   */
  public String describe() {
    long total = Arrays.stream(tokens).sum();
    long drops = Arrays.stream(dropped).sum();
    int worstLayer = -1;
    double worst = maxImbalance();
    for (int l = 0; l < layers && worstLayer < 0; l++) if (imbalance(l) == worst) worstLayer = l;
    return String.format(Locale.ROOT, "expert load: %d layers x %d experts, %d token-expert pairs, imbalance"
        + " max/mean %s%s, %d dropped", layers, experts, total, Double.isNaN(worst) ? "n/a"
        : String.format(Locale.ROOT, "%.2f", worst), worstLayer < 0 ? "" : " (worst layer " + worstLayer + ")", drops);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExpertLoad e && e.layers == layers && e.experts == experts && Arrays.equals(e.tokens, tokens)
        && Arrays.equals(e.dropped, dropped);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(tokens) + Arrays.hashCode(dropped);
  }

  @Override
  public String toString() {
    return describe();
  }
}
