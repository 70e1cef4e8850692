package io.decodefleet.kernels.cuda;

import java.util.Locale;

/**
 * How many CTAs the persistent decode-attention kernel is launched with. The kernel's CTA b of a grid
 * of G takes items b, 2G - 1 - b, 2G + b, ... and the CTA that completes the last chunk of a (sequence,
 * kv head) merges its partials in the same launch, so either grid computes the same result: what
 * differs is who hands the items out.
 */
public enum PersistentGrid {
  /**
   * One CTA per item (the split kernel's grid): the hardware starts each CTA past the resident slots
   * as an earlier one exits, and the merge still happens in the launch (no combine kernel). Where the
   * items fit the slots it is the same launch as {@link #SLOTS}.
   */
  ITEMS,
  /** As many CTAs as the GPU holds at once, each looping over its share of the items in snake order. */
  SLOTS;

  /** The name a setting or a report uses: {@code items} or {@code slots}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** {@code items} or {@code slots} (any case, blanks around); anything else is refused, naming both. */
  public static PersistentGrid parse(String value) {
    for (PersistentGrid g : values()) {
      if (g.label().equals(value.strip().toLowerCase(Locale.ROOT))) return g;
    }
    throw new IllegalArgumentException("unknown persistent attention grid '" + value + "' (known: items, slots)");
  }

  /** CTAs of a launch whose work list holds {@code items} items (at least 1) on a GPU of {@code slots} slots. */
  public int ctas(int items, int slots) {
    ParamChecks.positive(slots, "slots");
    return this == ITEMS ? Math.max(1, items) : Math.max(1, Math.min(slots, items));
  }
}
