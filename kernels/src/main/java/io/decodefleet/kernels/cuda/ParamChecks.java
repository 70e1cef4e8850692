package io.decodefleet.kernels.cuda;

/** One-line argument checks shared by the parameter records and the planners. */
final class ParamChecks {

  private ParamChecks() {}

  static void flag(int value, String name) {
    if (value != 0 && value != 1) {
      throw new IllegalArgumentException(name + " must be 0 or 1 but is " + value);
    }
  }

  static void positive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0 but is " + value);
    }
  }

  static void nonNegative(int value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0 but is " + value);
    }
  }

  static void multipleOf(int value, int of, String name) {
    if (value % of != 0) {
      throw new IllegalArgumentException(name + " must be a multiple of " + of + " but is " + value);
    }
  }

  static void atMost(int value, int max, String name) {
    if (value > max) {
      throw new IllegalArgumentException(name + " must be <= " + max + " but is " + value);
    }
  }

  static void pointer(long address, String name) {
    if (address == 0L) {
      throw new IllegalArgumentException(name + " is a null device pointer");
    }
  }

  static void headDim(int headDim) {
    if (headDim != 64 && headDim != 128) {
      throw new IllegalArgumentException("headDim must be 64 or 128 but is " + headDim);
    }
  }

  /**
   * A skinny GEMM planner's launch: {@code m} rows of x (at most {@code maxM}), an {@code n} x {@code k}
   * weight with {@code k} a multiple of 8 (16-byte rows of bf16), and {@code slots} resident CTAs.
   */
  static void skinnyLaunch(int m, int maxM, int n, int k, int slots) {
    positive(m, "m");
    atMost(m, maxM, "m");
    positive(n, "n");
    positive(k, "k");
    multipleOf(k, 8, "k");
    positive(slots, "slots");
  }

  static void powerOfTwo(int value, String name) {
    if (value <= 0 || Integer.bitCount(value) != 1) {
      throw new IllegalArgumentException(name + " must be a power of two but is " + value);
    }
  }
}
