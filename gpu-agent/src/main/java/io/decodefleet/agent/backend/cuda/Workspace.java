package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.engine.ModelConfig;
import jcuda.driver.JCudaDriver;

/**
 * The activations and scratch of a forward pass of up to {@code rows} tokens, in one device
 * allocation shared by eager steps and every captured graph (steps run one at a time on one
 * stream, so they never overlap). Counters that kernels leave at zero are zeroed once here.
 */
final class Workspace implements AutoCloseable {

  private static final long ALIGN = 256;

  final int rows;
  final int logitsRows;
  final long residual; // (rows, hidden) bf16
  final long residualAlt; // (1, hidden) bf16: a one-row step's residual stream after a norm inside a GEMV
  final long normed; // (rows, hidden) bf16
  final long qkv; // (rows, qSize + 2 kvSize) bf16
  final long q; // (rows, qHeads, headDim) bf16, contiguous copy of qkv's q part
  final long k; // (rows, kvHeads, headDim) bf16, fresh rows only (prefill kernel input)
  final long v; // (rows, kvHeads, headDim) bf16, fresh rows only
  final long attn; // (rows, qHeads, headDim) bf16
  final long delta; // (rows, hidden) bf16; float32 on a tensor-parallel rank (room for either)
  final long gateUp; // (rows, 2 intermediate) bf16; empty for a mixture of experts
  final long act; // (rows, intermediate) bf16; empty for a mixture of experts
  final long sampled; // (logitsRows, hidden) bf16, gathered sample rows
  final long logits; // (logitsRows, vocab) bf16
  final long tokens; // (logitsRows) int32, device argmax or draw
  final long sampling; // (6, sampled) 32-bit, the step's SamplingInputs: up to `rows` sample rows
  final long gemmPartials; // (gemmFloats) float32, skinny GEMM split-K partial sums
  final long gemmCounters; // (gemmCounters) int32, zero between launches
  final long attnPartials; // (attnSlots, 16, headDim) float32
  final long attnLse; // (attnSlots, 16) float32
  final long attnCounters; // (2 + rows * kvHeads) int32, zero between launches
  private final DeviceBuffer arena;
  private final CudaContext ctx;

  /**
   * @param gemmFloats, gemmCounterInts the largest skinny-GEMM scratch any planned launch needs
   * @param attnSlots the most decode-attention partial slots a plan can use (the kernels' CTA slots)
   */
  Workspace(CudaContext ctx, ModelConfig c, int rows, int logitsRows, long gemmFloats, long gemmCounterInts,
      int attnSlots) {
    this.rows = rows;
    this.logitsRows = logitsRows;
    long h = c.hiddenSize();
    long at = 0;
    residual = at;
    at = next(at, rows * h * 2);
    residualAlt = at;
    at = next(at, h * 2);
    normed = at;
    at = next(at, rows * h * 2);
    qkv = at;
    at = next(at, rows * (c.qSize() + 2L * c.kvSize()) * 2);
    q = at;
    at = next(at, (long) rows * c.qSize() * 2);
    k = at;
    at = next(at, (long) rows * c.kvSize() * 2);
    v = at;
    at = next(at, (long) rows * c.kvSize() * 2);
    attn = at;
    at = next(at, (long) rows * c.qSize() * 2);
    delta = at;
    at = next(at, rows * h * 4);
    // A mixture of experts has no dense MLP: its activations live in MoeLayerKernels' scratch.
    long mlpWidth = c.isMoe() ? 0 : c.intermediateSize();
    gateUp = at;
    at = next(at, rows * 2L * mlpWidth * 2);
    act = at;
    at = next(at, (long) rows * mlpWidth * 2);
    sampled = at;
    at = next(at, logitsRows * h * 2);
    logits = at;
    at = next(at, (long) logitsRows * c.vocabSize() * 2);
    tokens = at;
    at = next(at, logitsRows * 4L);
    sampling = at;
    at = next(at, SamplingInputs.capacityBytes(rows));
    gemmPartials = at;
    at = next(at, Math.max(1, gemmFloats) * 4);
    gemmCounters = at;
    at = next(at, Math.max(1, gemmCounterInts) * 4);
    attnPartials = at;
    at = next(at, (long) attnSlots * 16 * c.headDim() * 4);
    attnLse = at;
    at = next(at, (long) attnSlots * 16 * 4);
    attnCounters = at;
    at = next(at, (2L + (long) rows * c.numKeyValueHeads()) * 4);
    arena = ctx.allocate(at);
    this.ctx = ctx;
    try {
      poison();
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /**
   * Poisons the activations (bf16 NaN): a kernel that reads what nothing wrote shows up as NaN
   * logits instead of plausible numbers. Then zeroes the counters, which kernels expect. At
   * construction, and again after load-time work (GEMM timing) that wrote scratch data.
   */
  void poison() {
    arena.fill16((short) 0x7fc0);
    zero(ctx, gemmCounters, attnPartials, "GEMM counters");
    zero(ctx, attnCounters, arena.bytes(), "attention counters");
  }

  private void zero(CudaContext ctx, long from, long to, String what) {
    ctx.check(JCudaDriver.cuMemsetD32(arena.pointer().withByteOffset(from), 0, (to - from) / 4),
        "cuMemsetD32(" + what + ")");
  }

  private static long next(long at, long bytes) {
    return (at + bytes + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** Device address of a region (one of this class's offsets) plus {@code bytes} into it. */
  long at(long region, long bytes) {
    return arena.address(region + bytes);
  }

  long at(long region) {
    return arena.address(region);
  }

  DeviceBuffer buffer() {
    return arena;
  }

  long bytes() {
    return arena.bytes();
  }

  @Override
  public void close() {
    arena.close();
  }
}
