package io.decodefleet.agent.engine;

import java.util.Locale;

/**
 * How a mixture of experts' tokens reach their experts: plain top-k (every expert takes every token
 * routed to it, as Mixtral and Qwen3-MoE run), or capacity-bounded as GShard and the Switch
 * Transformer train: each expert takes at most {@code ceil(capacityFactor * tokens * k / experts)}
 * of a step's tokens, in batch order, and the rest are dropped from that expert (they keep their
 * residual and their other experts) and counted.
 *
 * @param capacityFactor the slack over a perfectly even load; 0 for plain top-k
 */
public record MoeRouterPolicy(double capacityFactor) {

  /** Plain top-k: no capacity, nothing dropped. */
  public static final MoeRouterPolicy TOP_K = new MoeRouterPolicy(0);

  public MoeRouterPolicy {
    if (capacityFactor != 0 && !(capacityFactor > 0 && capacityFactor <= 1000)) {
      throw new IllegalArgumentException("the capacity factor must be in (0, 1000], got " + capacityFactor);
    }
  }

  public boolean capacityBounded() {
    return capacityFactor > 0;
  }

  /** "topk" or "capacity:F": what {@link #parse} reads. */
  public String label() {
    return capacityBounded() ? "capacity:" + capacityFactor : "topk";
  }

  /** "topk" or "capacity:F" (F > 0, e.g. capacity:1.25); an IllegalArgumentException in one line otherwise. */
  public static MoeRouterPolicy parse(String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("topk") || t.isEmpty()) return TOP_K;
    if (t.startsWith("capacity:")) {
      double f;
      try {
        f = Double.parseDouble(t.substring("capacity:".length()));
      } catch (NumberFormatException e) {
        f = Double.NaN;
      }
      if (f > 0 && f <= 1000) return new MoeRouterPolicy(f);
    }
    throw new IllegalArgumentException("must be topk or capacity:F with a capacity factor F in (0, 1000] (e.g."
        + " capacity:1.25), got '" + text + "'");
  }
}
