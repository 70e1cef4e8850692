package io.decodefleet.agent.backend.cuda;

import io.decodefleet.kernels.cuda.DecodeAttentionPlan;

/**
 * One forward pass as the launches see it: how many rows, which of them the prefill kernel takes,
 * where the step's inputs live on the device, and how the paged rows' attention runs.
 *
 * @param rows rows launched (an eager step's tokens, or a graph's whole bucket)
 * @param freshRows rows {@code [0, freshRows)} attend among themselves through the prefill kernel
 * @param freshSpans prefill-kernel sequences
 * @param maxFreshLength the longest of them
 * @param inputs device address of byte 0 of the step's {@link StepInputs} layout
 * @param layout that layout
 * @param attention how rows {@code [freshRows, rows)} attend over the paged cache
 */
record StepLaunch(int rows, int freshRows, int freshSpans, int maxFreshLength, long inputs, StepInputs layout,
    Attention attention) {

  /** How the paged rows' attention is launched. */
  sealed interface Attention permits EagerDecode, GraphDecode, Paged {}

  /**
   * The tensor-core decode kernels with the step's plan passed by value.
   *
   * @param stride block-table entries per paged row
   */
  record EagerDecode(DecodeAttentionPlan plan, boolean persistent, int stride, int slots) implements Attention {}

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
    return rows - freshRows;
  }

  long at(long sectionOffset) {
    return inputs + sectionOffset;
  }
}
