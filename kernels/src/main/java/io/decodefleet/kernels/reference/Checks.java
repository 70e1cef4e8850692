package io.decodefleet.kernels.reference;

/**
 * Cheap argument validation shared by the reference kernels.
 *
 * <p>Every check is O(1) so it can run on each call of a hot loop. Required lengths are computed in
 * {@code long} by the callers because products of tensor dimensions overflow {@code int} long
 * before a Java array does.
 */
final class Checks {

  private Checks() {}

  static void nonNegative(int value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0 but is " + value);
    }
  }

  static void positive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0 but is " + value);
    }
  }

  static void length(float[] array, long required, String name) {
    if (array == null) {
      throw new IllegalArgumentException(name + " is null");
    }
    if (array.length < required) {
      throw new IllegalArgumentException(
          name + " has length " + array.length + " but needs at least " + required);
    }
  }

  static void length(int[] array, long required, String name) {
    if (array == null) {
      throw new IllegalArgumentException(name + " is null");
    }
    if (array.length < required) {
      throw new IllegalArgumentException(
          name + " has length " + array.length + " but needs at least " + required);
    }
  }
}
