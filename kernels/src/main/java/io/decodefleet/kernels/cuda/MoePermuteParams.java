package io.decodefleet.kernels.cuda;

/**
 * Mirror of {@code MoePermuteParams} in moe.cu: the live rows' (token, slot) pairs grouped by
 * expert, as {@code reference.ExpertPermutation} groups them (expert by expert, within an expert in
 * batch order, each expert keeping at most its capacity), in one CTA on the device.
 *
 * @param offsets (numExperts + 1) int32 out
 * @param tokenOf (rows * k) int32 out: the token of each permuted row
 * @param rowOf (rows, k) int32 out: -1 where a pair was dropped
 * @param load (numExperts, 2) int32 out: tokens each expert kept and dropped; 0: not written
 * @param experts (rows, k) int32: the router's choices
 * @param liveRows device int32, the step's real rows; 0: all {@code rows}
 * @param capacities (rows + 1) int32: the capacity per expert at each live row count; 0: unbounded
 * @param active (numExperts + 1) int32 out: [0] the number of experts that kept a row, then their ids
 *     in ascending order (the grouped GEMMs' grid rows, {@link MoeExpertGemmParams#withActive}); 0: not written
 */
public record MoePermuteParams(long offsets, long tokenOf, long rowOf, long load, long experts, long liveRows,
    long capacities, long active, int rows, int numExperts, int k) implements KernelParams {

  /** Without the list of experts that kept a row. */
  public MoePermuteParams(long offsets, long tokenOf, long rowOf, long load, long experts, long liveRows,
      long capacities, int rows, int numExperts, int k) {
    this(offsets, tokenOf, rowOf, load, experts, liveRows, capacities, 0, rows, numExperts, k);
  }

  public static final StructLayout LAYOUT = StructLayout.of(MoePermuteParams.class);

  public MoePermuteParams {
    ParamChecks.pointer(offsets, "offsets");
    ParamChecks.pointer(tokenOf, "tokenOf");
    ParamChecks.pointer(rowOf, "rowOf");
    ParamChecks.pointer(experts, "experts");
    ParamChecks.nonNegative(rows, "rows");
    MoeRouteParams.checkExperts(numExperts, k);
  }

  /** One CTA: the permutation needs every pair before it (capacity is taken in batch order). */
  public LaunchShape launch() {
    return LaunchShape.grid1d(1, Kernel.MOE_PERMUTE);
  }

  @Override
  public byte[] pack() {
    return LAYOUT.pack(this);
  }
}
