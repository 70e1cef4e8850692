package io.decodefleet.agent.backend.cuda;

import io.decodefleet.kernels.cuda.DecodeAttentionPlan;

/**
 * One forward pass as the launches see it: how many rows, which of them each attention kernel
 * takes (the groups of {@link StepPlan}, contiguous in launch order), where the step's inputs live
 * on the device, and how the paged rows' attention runs.
 *
 * @param rows rows launched (an eager step's tokens, or a graph's whole bucket)
 * @param freshRows rows {@code [0, freshRows)} attend among themselves through the prefill kernel
 * @param freshSpans prefill-kernel sequences
 * @param maxFreshLength the longest of them
 * @param continuedSpans spans of rows {@code [freshRows, firstPaged)}, attending over the cache
 *     through the paged prefill kernel; their tables lead the staged block tables
 * @param maxContinuedLength the longest of them
 * @param firstPaged rows {@code [firstPaged, rows)} attend over the cache one row per decode-kernel sequence
 * @param tableStride block-table entries per staged table of an eager step (a graph replay's
 *     kernels read the step's from its dims: 0 here)
 * @param inputs device address of byte 0 of the step's {@link StepInputs} layout
 * @param layout that layout
 * @param attention how rows {@code [firstPaged, rows)} attend over the paged cache
 */
record StepLaunch(int rows, int freshRows, int freshSpans, int maxFreshLength, int continuedSpans,
    int maxContinuedLength, int firstPaged, int tableStride, long inputs, StepInputs layout, Attention attention) {

  /** How the paged rows' attention is launched. */
  sealed interface Attention permits EagerDecode, GraphDecode, Paged {}

  /** The tensor-core decode kernels with the step's plan passed by value (null: no paged row). */
  record EagerDecode(DecodeAttentionPlan plan, boolean persistent, int slots) implements Attention {}

  /**
   * The graph variants of the decode kernels: the plan is read from the step's dims on the device.
   *
   * @param maxItems split-kernel grid, at least any step's item count
   * @param slots persistent-kernel grid
   */
  record GraphDecode(boolean persistent, int maxItems, int slots) implements Attention {}

  /** The plain paged kernel (stride read from the dims on the device). */
  enum Paged implements Attention { INSTANCE }

  int pagedRows() {
    return rows - firstPaged;
  }

  /** A graph replay's launch: every row paged, nothing staged for the prefill kernels. */
  static StepLaunch allPaged(int rows, long inputs, StepInputs layout, Attention attention) {
    return new StepLaunch(rows, 0, 0, 0, 0, 0, 0, 0, inputs, layout, attention);
  }

  long at(long sectionOffset) {
    return inputs + sectionOffset;
  }
}
