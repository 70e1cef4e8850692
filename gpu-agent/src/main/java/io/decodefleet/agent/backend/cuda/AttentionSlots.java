package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * Which decode-attention kernels a model can use and how many CTAs of them the GPU holds at once
 * (the planner's {@code slots}, which also bound how many partial results a plan can ask for).
 */
final class AttentionSlots {

  private AttentionSlots() {}

  /**
   * Whether the tensor-core attention kernels cover this model and block size: head dim 64 or
   * 128, at most 16 query heads per kv head, a power-of-two block of at most 64 tokens.
   */
  static boolean tensorCoreFits(ModelConfig c, int blockSize) {
    int d = c.headDim();
    int group = c.numAttentionHeads() / c.numKeyValueHeads();
    return (d == 64 || d == 128) && group <= DecodeAttentionParams.MAX_GROUP && Integer.bitCount(blockSize) == 1
        && blockSize <= DecodeAttentionPlan.STAGE_TOKENS;
  }

  /** Slots of the eager decode kernel (split or persistent) for {@code headDim}, over an FP8 or bf16 cache. */
  static int eager(KernelModule k, int headDim, boolean persistent, boolean fp8) {
    if (fp8) return k.slots(fp8Kernel(headDim, persistent, false));
    return eager(k, headDim, persistent);
  }

  /** Slots of the graph decode kernel (split or persistent) for {@code headDim}, over an FP8 or bf16 cache. */
  static int graph(KernelModule k, int headDim, boolean persistent, boolean fp8) {
    if (fp8) return k.slots(fp8Kernel(headDim, persistent, true));
    return graph(k, headDim, persistent);
  }

  private static Kernel fp8Kernel(int headDim, boolean persistent, boolean graph) {
    boolean d64 = headDim == 64;
    if (graph) {
      if (persistent) {
        return d64 ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D64 : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_FP8_D128;
      }
      return d64 ? Kernel.DECODE_ATTENTION_GRAPH_FP8_D64 : Kernel.DECODE_ATTENTION_GRAPH_FP8_D128;
    }
    if (persistent) {
      return d64 ? Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D64 : Kernel.DECODE_ATTENTION_PERSISTENT_FP8_D128;
    }
    return d64 ? Kernel.DECODE_ATTENTION_FP8_D64 : Kernel.DECODE_ATTENTION_FP8_D128;
  }

  /** Slots of the eager decode kernel (split or persistent) for {@code headDim}. */
  static int eager(KernelModule k, int headDim, boolean persistent) {
    if (persistent) {
      return k.slots(headDim == 64 ? Kernel.DECODE_ATTENTION_PERSISTENT_D64 : Kernel.DECODE_ATTENTION_PERSISTENT_D128);
    }
    return k.slots(headDim == 64 ? Kernel.DECODE_ATTENTION_D64 : Kernel.DECODE_ATTENTION_D128);
  }

  /** Slots of the graph variant of the decode kernel (split or persistent) for {@code headDim}. */
  static int graph(KernelModule k, int headDim, boolean persistent) {
    if (persistent) {
      return k.slots(headDim == 64
          ? Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D64
          : Kernel.DECODE_ATTENTION_GRAPH_PERSISTENT_D128);
    }
    return k.slots(headDim == 64 ? Kernel.DECODE_ATTENTION_GRAPH_D64 : Kernel.DECODE_ATTENTION_GRAPH_D128);
  }

  /**
   * The most partial slots any decode-attention plan can use: {@link DecodeAttentionPlan#MAX_WAVE_SPLITS}
   * times the largest of the eight slot counts (a plan splits pairs that fill the slots into at most that
   * many times the slots' items; fewer pairs, into at most the slots).
   */
  static int maxPartialSlots(KernelModule k, int headDim) {
    if (headDim != 64 && headDim != 128) {
      return 1;
    }
    int most = 1;
    for (boolean fp8 : new boolean[] {false, true}) {
      most = Math.max(most, Math.max(Math.max(eager(k, headDim, false, fp8), eager(k, headDim, true, fp8)),
          Math.max(graph(k, headDim, false, fp8), graph(k, headDim, true, fp8))));
    }
    return DecodeAttentionPlan.MAX_WAVE_SPLITS * most;
  }
}
