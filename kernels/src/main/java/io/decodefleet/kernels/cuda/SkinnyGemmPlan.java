package io.decodefleet.kernels.cuda;

/**
 * Host-side plan of one skinny GEMM launch ({@code out = x · wᵀ}, x with few rows).
 *
 * <p>The x rows are cut into m tiles of {@code mTile} (8, 16, 32 or 64: the smallest that holds
 * m, else 64) and the weight rows into tiles of {@link #rowsPerCta(Kernel) rowsPerCta} (one
 * CTA's worth: 64 for the m8 and m16 variants, 128 for m32 and m64, which share each x fragment
 * between two weight tiles). If those tiles alone leave CTA slots of the GPU empty, k is split
 * into {@code splits} slices of {@code kSlice} (a multiple of 32, at least two 128-wide stages):
 * each CTA streams its rows x kSlice piece of the weight, so every weight byte is still read
 * once, and the last CTA of each tile sums the float32 partials. Splitting costs
 * {@code splits * m * n * 8} bytes of partial traffic (written and read back, mostly in L2),
 * against {@code n * k * 2} weight bytes; the summing CTA reads {@code splits} partial tiles
 * alone, so splits are capped at {@value #MAX_REDUCE_BYTES} bytes of partials per tile (4 splits
 * at m = 64), which keeps that tail to two rounds of loads.
 *
 * @param mTile x rows per tile
 * @param mTiles ceil(m / mTile)
 * @param nTiles ceil(n / rowsPerCta)
 * @param splits k slices (1 = no split)
 * @param kSlice k per slice
 */
public record SkinnyGemmPlan(
    int m, int n, int k, int mTile, int mTiles, int nTiles, int splits, int kSlice) {

  /** Largest m the skinny path is meant for; larger batches belong to the tensor-core GEMM. */
  public static final int MAX_M = 256;
  private static final int MIN_SLICE = 256;
  /** Partial-tile bytes of one row tile the summing CTA may have to read (all splits). */
  static final int MAX_REDUCE_BYTES = 128 * 1024;

  /** The kernel variant for {@code m} rows of x. */
  public static Kernel kernelFor(int m) {
    ParamChecks.positive(m, "m");
    if (m <= 8) {
      return Kernel.SKINNY_GEMM_M8;
    }
    if (m <= 16) {
      return Kernel.SKINNY_GEMM_M16;
    }
    if (m <= 32) {
      return Kernel.SKINNY_GEMM_M32;
    }
    return Kernel.SKINNY_GEMM_M64;
  }

  /**
   * Plans a launch.
   *
   * @param slots CTAs the GPU runs at once: SM count x resident CTAs per SM of
   *     {@link #kernelFor(int) kernelFor(m)}
   */
  public static SkinnyGemmPlan plan(int m, int n, int k, int slots) {
    ParamChecks.skinnyLaunch(m, MAX_M, n, k, slots);
    Kernel kernel = kernelFor(m);
    int mTile = tileOf(kernel);
    int rows = rowsPerCta(kernel);
    int mTiles = (m + mTile - 1) / mTile;
    int nTiles = (n + rows - 1) / rows;
    long tiles = (long) mTiles * nTiles;
    int maxSplits = Math.max(1, (k + MIN_SLICE - 1) / MIN_SLICE);
    maxSplits = Math.min(maxSplits, MAX_REDUCE_BYTES / (mTile * rows * Float.BYTES));
    int wanted = (int) Math.max(1, Math.min(maxSplits, slots / tiles));
    int kSlice = roundUp((k + wanted - 1) / wanted, 32);
    int splits = (k + kSlice - 1) / kSlice;
    return new SkinnyGemmPlan(m, n, k, mTile, mTiles, nTiles, splits, kSlice);
  }

  /** Weight rows one CTA of {@code kernel} owns: 4 warps x 16 (m8, m16) or x 32 (m32, m64). */
  public static int rowsPerCta(Kernel kernel) {
    return switch (kernel) {
      case SKINNY_GEMM_M8, SKINNY_GEMM_M16 -> 64;
      case SKINNY_GEMM_M32, SKINNY_GEMM_M64 -> 128;
      default -> throw new IllegalArgumentException(kernel + " is not a skinny GEMM kernel");
    };
  }

  private static int tileOf(Kernel kernel) {
    return switch (kernel) {
      case SKINNY_GEMM_M8 -> 8;
      case SKINNY_GEMM_M16 -> 16;
      case SKINNY_GEMM_M32 -> 32;
      case SKINNY_GEMM_M64 -> 64;
      default -> throw new AssertionError(kernel);
    };
  }

  private static int roundUp(int a, int b) {
    return (a + b - 1) / b * b;
  }

  public Kernel kernel() {
    return kernelFor(m);
  }

  /** Weight rows per CTA of this plan's kernel. */
  public int rowsPerCta() {
    return rowsPerCta(kernel());
  }

  /** float32 elements of the partial-sum workspace; 0 when k is not split. */
  public long workspaceFloats() {
    return splits == 1 ? 0 : (long) splits * mTiles * mTile * nTiles * rowsPerCta();
  }

  /** int32 tile counters (zeroed once; each launch leaves them zero). */
  public int counterCount() {
    return mTiles * nTiles;
  }

  /** (nTiles, splits, mTiles) CTAs. */
  public LaunchShape launch() {
    Kernel kernel = kernel();
    return new LaunchShape(nTiles, splits, mTiles, kernel.threads(), kernel.sharedBytes());
  }
}
