package io.decodefleet.kernels.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Host-side plan of one launch of the second skinny GEMM (skinny2_gemm.cu, "ours:skinny2"):
 * {@code out = x · wᵀ} for at most {@value #MAX_M} rows of x.
 *
 * <p>The kernel is persistent: {@code ctas = min(items, slots)} CTAs (one per SM: its 4-stage
 * ring takes most of the shared memory) walk the items with a stride of the grid, where an item
 * is one tile of {@value #ROWS} weight rows over one k slice, and stream each item's 256-k chunks
 * through the ring without draining it between items. What sets the time is the busiest CTA's
 * chunk count, {@code ceil(items / ctas) * chunksPerSlice}; the planner tries every split count
 * up to {@value #MAX_SPLITS} (slices of whole chunks, none empty) and keeps the smallest that
 * comes within {@value #BALANCE_SLACK_PERCENT}% of the best balance, since each split adds a
 * float32 partial tile and its sum. Llama-3-8B at 132 SMs: 6144 × 4096 takes 4 splits (384
 * items, 12 chunks on the busiest CTA against an even 11.6), 4096 × 4096 2 (8 against 7.8),
 * 28672 × 4096 2 (56 against 54.3), 4096 × 14336 2 (28 against 27.2).
 *
 * <p>Requirements, checked here: 1 ≤ m ≤ {@value #MAX_M}, and k a multiple of 8 (the weights'
 * tensor map needs a row stride of a multiple of 16 bytes, each x row's pieces are bulk copies of
 * a multiple of 16 bytes; x and w must also start 16-byte aligned). n is free: the tensor map
 * fills rows past n with zeros and they are never stored.
 *
 * @param mTile x rows the kernel variant holds (1, 2, 4, 8 or 16; the FP8 twin's also 32 or 64)
 * @param nTiles ceil(n / {@value #ROWS})
 * @param splits k slices (1 = no split)
 * @param kSlice k per slice, a multiple of {@value #CHUNK_K}
 * @param ctas the persistent grid
 */
public record Skinny2GemmPlan(int m, int n, int k, int mTile, int nTiles, int splits, int kSlice, int ctas) {

  /** Largest m the kernel takes: its MMA tiles hold at most 16 x rows. */
  public static final int MAX_M = 16;
  /** Weight rows per tile: 4 consumer warps x 16. */
  public static final int ROWS = 64;
  /** k per pipeline stage (512 bytes of each row). */
  public static final int CHUNK_K = 256;
  /** Most k slices: the summing item loads at most two rounds of 8 partials per thread. */
  public static final int MAX_SPLITS = 16;
  static final int BALANCE_SLACK_PERCENT = 2;

  /** The kernel variant for {@code m} rows of x: the smallest that holds them. */
  public static Kernel kernelFor(int m) {
    ParamChecks.positive(m, "m");
    ParamChecks.atMost(m, MAX_M, "m");
    if (m == 1) return Kernel.SKINNY2_GEMM_M1;
    if (m == 2) return Kernel.SKINNY2_GEMM_M2;
    if (m <= 4) return Kernel.SKINNY2_GEMM_M4;
    if (m <= 8) return Kernel.SKINNY2_GEMM_M8;
    return Kernel.SKINNY2_GEMM_M16;
  }

  /** Whether the kernel takes a launch of this shape (rows of x and k; n is free). */
  public static boolean supports(int m, int k) {
    return m >= 1 && m <= MAX_M && k >= 8 && k % 8 == 0;
  }

  /**
   * Plans a launch.
   *
   * @param slots CTAs the GPU runs at once: SM count x resident CTAs per SM of {@link #kernelFor}
   */
  public static Skinny2GemmPlan plan(int m, int n, int k, int slots) {
    ParamChecks.skinnyLaunch(m, MAX_M, n, k, slots);
    return plan(m, n, k, slots, tileOf(kernelFor(m)));
  }

  /**
   * Plans a launch whose kernel holds {@code mTile} x rows a stage (the FP8 twin's variants reach 64:
   * {@link Skinny2GemmFp8Params#plan}); the split choice does not depend on m.
   */
  static Skinny2GemmPlan plan(int m, int n, int k, int slots, int mTile) {
    int nTiles = (n + ROWS - 1) / ROWS;
    int chunks = (k + CHUNK_K - 1) / CHUNK_K;
    long[] busiest = new long[MAX_SPLITS + 1];
    long best = Long.MAX_VALUE;
    for (int s = 1; s <= Math.min(MAX_SPLITS, chunks); s++) {
      int perSlice = (chunks + s - 1) / s;
      if ((chunks + perSlice - 1) / perSlice != s) continue; // same slices as a smaller s
      long items = (long) nTiles * s;
      busiest[s] = (items + slots - 1) / slots * perSlice;
      best = Math.min(best, busiest[s]);
    }
    int splits = 1;
    for (int s = 1; s < busiest.length; s++) {
      if (busiest[s] > 0 && busiest[s] * 100 <= best * (100 + BALANCE_SLACK_PERCENT)) {
        splits = s;
        break;
      }
    }
    return of(m, n, k, mTile, nTiles, splits, slots);
  }

  /** The launch of {@code splits} slices of whole chunks on at most {@code slots} CTAs (a count the caller checked). */
  private static Skinny2GemmPlan of(int m, int n, int k, int mTile, int nTiles, int splits, int slots) {
    int chunks = (k + CHUNK_K - 1) / CHUNK_K;
    int kSlice = (chunks + splits - 1) / splits * CHUNK_K;
    long items = (long) nTiles * splits;
    if (items > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("n (" + n + ") gives more than 2^31 skinny2 items");
    }
    return new Skinny2GemmPlan(m, n, k, mTile, nTiles, splits, kSlice, (int) Math.min(items, slots));
  }

  private static int tileOf(Kernel kernel) {
    return switch (kernel) {
      case SKINNY2_GEMM_M1 -> 1;
      case SKINNY2_GEMM_M2 -> 2;
      case SKINNY2_GEMM_M4 -> 4;
      case SKINNY2_GEMM_M8 -> 8;
      case SKINNY2_GEMM_M16 -> 16;
      default -> throw new IllegalArgumentException(kernel + " is not a skinny2 GEMM kernel");
    };
  }

  /** The bf16 kernel of this plan (m ≤ {@value #MAX_M}); the FP8 twin's: {@link Skinny2GemmFp8Params#kernelFor}. */
  public Kernel kernel() {
    return kernelFor(m);
  }

  /**
   * This launch with k cut into {@code splits} slices of whole chunks instead (the same tiles and variant), on at most
   * {@code slots} persistent CTAs: for timing a split count against the planner's, whose balance rule assumes that
   * every CTA streams at the same rate. A count whose slices come out as fewer ones (9 chunks in 4 slices of 3 are
   * 3 slices) is refused.
   */
  public Skinny2GemmPlan withSplits(int splits, int slots) {
    ParamChecks.positive(slots, "slots");
    int chunks = (k + CHUNK_K - 1) / CHUNK_K;
    if (splits < 1 || splits > Math.min(MAX_SPLITS, chunks)) {
      throw new IllegalArgumentException("splits must be 1.." + Math.min(MAX_SPLITS, chunks) + " for k = " + k
          + " but is " + splits);
    }
    int perSlice = (chunks + splits - 1) / splits;
    if ((chunks + perSlice - 1) / perSlice != splits) {
      throw new IllegalArgumentException(splits + " slices of whole chunks of k = " + k + " come out as "
          + (chunks + perSlice - 1) / perSlice);
    }
    return of(m, n, k, mTile, nTiles, splits, slots);
  }

  /**
   * This launch with 1 and with 2 slices of k, where those are fewer than its own and cut k's chunks evenly enough
   * ({@link #withSplits}): what fp8-dynamic's load times beside it. Fewer splits need no more split-K scratch.
   */
  public List<Skinny2GemmPlan> withFewerSplits(int slots) {
    List<Skinny2GemmPlan> fewer = new ArrayList<>();
    for (int s = 1; s <= 2 && s < splits; s++) {
      try {
        fewer.add(withSplits(s, slots));
      } catch (IllegalArgumentException e) {
        // k's chunks do not cut into that many slices: no such launch
      }
    }
    return fewer;
  }

  /** Items (row tile, k slice) the persistent CTAs share. */
  public int items() {
    return nTiles * splits;
  }

  /** 256-k chunks of the busiest CTA: what the balance of the schedule is judged by. */
  public int busiestChunks() {
    int perSlice = kSlice / CHUNK_K;
    return (items() + ctas - 1) / ctas * perSlice;
  }

  /** float32 elements of the partial-sum workspace; 0 when k is not split. */
  public long workspaceFloats() {
    return splits == 1 ? 0 : (long) splits * mTile * nTiles * ROWS;
  }

  /** int32 tile counters (zeroed once; each launch leaves them zero); 0 when k is not split. */
  public int counterCount() {
    return splits == 1 ? 0 : nTiles;
  }

  /** (ctas, 1, 1) CTAs of 160 threads. */
  public LaunchShape launch() {
    return LaunchShape.grid1d(ctas, kernel());
  }

  /**
   * What the weights' tensor map describes: w (n, k) row-major bf16 as (k, n), boxes of {@value
   * #CHUNK_K} k × {@value #ROWS} rows (one stage, 32 KB), no swizzle, so a box row lands 512 bytes
   * after the last; zeros past n and k. It depends on w and the shape only, not on m, so one map
   * serves a weight at every row count.
   */
  public static TensorMapSpec wMapSpec(long w, int n, int k) {
    ParamChecks.positive(n, "n");
    ParamChecks.multipleOf(k, 8, "k");
    return new TensorMapSpec(w, k, n, 2L * k, CHUNK_K, ROWS, TensorMapSpec.SWIZZLE_NONE);
  }

  /** The weights' tensor map of this launch's shape at {@code w}. */
  public TensorMapSpec wMapSpec(long w) {
    return wMapSpec(w, n, k);
  }

  /**
   * The launch's parameters, {@code wMap} encoded from {@link #wMapSpec(long)}; float32 out when
   * {@code outFloat}.
   */
  public Skinny2GemmParams params(TensorMap wMap, long out, long x, long workspace, long counters, int outStride,
      boolean outFloat) {
    return new Skinny2GemmParams(wMap, out, x, workspace, counters, m, n, k, outStride, kSlice, splits,
        outFloat ? 1 : 0);
  }
}
