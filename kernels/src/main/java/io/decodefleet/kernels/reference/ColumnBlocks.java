package io.decodefleet.kernels.reference;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The output columns of a projection in blocks, on the caller's thread or, for a weight large
 * enough to pay for it, on the common fork-join pool as well. Every output element is computed by
 * exactly one block, in the same order whichever thread runs it, so the result does not depend on
 * how the blocks are spread.
 */
final class ColumnBlocks {

  /** Weights below this many elements (16 M: 64 MiB of float32) stay on one thread. */
  static final long MIN_WEIGHT_ELEMENTS = 1L << 24;

  /** Nor does a product of fewer multiply-adds than this (m · n · k). */
  static final long MIN_MULTIPLY_ADDS = 1L << 24;

  /** A range {@code [j0, j1)} of output columns. */
  interface Body {
    void columns(int j0, int j1);
  }

  private ColumnBlocks() {}

  /** Whether an (m, k) × (n, k)ᵀ product is big enough to spread over threads. */
  static boolean worthThreads(int m, int n, int k) {
    long weight = (long) n * k;
    return weight >= MIN_WEIGHT_ELEMENTS && weight * m >= MIN_MULTIPLY_ADDS
        && ForkJoinPool.getCommonPoolParallelism() > 1;
  }

  /** Runs {@code body} over {@code [0, n)} in blocks of {@code block} columns. */
  static void forEach(int n, int block, boolean threads, Body body) {
    int blocks = (n + block - 1) / block;
    if (!threads || blocks < 2) {
      for (int b = 0; b < blocks; b++) {
        body.columns(b * block, Math.min(n, (b + 1) * block));
      }
      return;
    }
    IntStream.range(0, blocks).parallel().forEach(b -> body.columns(b * block, Math.min(n, (b + 1) * block)));
  }
}
