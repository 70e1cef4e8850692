package io.decodefleet.coordinator.workload;

/**
 * A token-length distribution: a fixed length ("128") or a uniform integer range ("32:256",
 * inclusive on both ends).
 */
public record LengthRange(int min, int max) {
  public LengthRange {
    if (min < 1) throw new IllegalArgumentException("length must be >= 1, got " + min);
    if (max < min) throw new IllegalArgumentException("length range " + min + ":" + max + " is empty");
  }

  /** Parses "N" or "MIN:MAX"; the message of the exception names what is wrong. */
  public static LengthRange parse(String text) {
    String t = text.trim();
    try {
      int colon = t.indexOf(':');
      if (colon < 0) {
        int n = Integer.parseInt(t);
        return new LengthRange(n, n);
      }
      return new LengthRange(Integer.parseInt(t.substring(0, colon).trim()), Integer.parseInt(t.substring(colon + 1).trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a length (N) or a range (MIN:MAX)");
    }
  }

  public int sample(java.util.random.RandomGenerator rng) {
    return min == max ? min : min + rng.nextInt(max - min + 1);
  }

  @Override
  public String toString() {
    return min == max ? Integer.toString(min) : min + ":" + max;
  }
}
