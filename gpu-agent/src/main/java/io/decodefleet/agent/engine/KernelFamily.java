package io.decodefleet.agent.engine;

import java.util.List;

/**
 * The kernel families of a decode step, as a profiled step ({@code --profile-steps}) times them, in
 * the order a step runs them. Every backend times the same families around the same work, so CPU
 * and GPU profiles read side by side.
 */
public enum KernelFamily {
  /** Token embedding gather (and the LM head's row gather). */
  EMBEDDING("embedding"),
  /** RMSNorm, with the residual add before it. */
  NORM("norm"),
  /** The fused q/k/v projection (three GEMMs on the CPU). */
  QKV_PROJ("qkv_proj"),
  /**
   * RoPE on q and k (after their q/k norms, where a model has them), and the new token's K/V written
   * to its cache slot.
   */
  ROPE_KV("rope_kv_append"),
  /** Attention over the paged KV cache (prefill rows: causal attention). */
  ATTENTION("attention"),
  /** The attention output projection. */
  O_PROJ("o_proj"),
  /** A tensor-parallel rank's partial sums completed across its group (NCCL all-reduce on GPUs). */
  ALL_REDUCE("all_reduce"),
  /** The fused gate and up projection (two GEMMs on the CPU). */
  GATE_UP_PROJ("gate_up_proj"),
  /** SwiGLU: silu(gate) * up. */
  ACTIVATION("swiglu"),
  /** The MLP's down projection. */
  DOWN_PROJ("down_proj"),
  /** The LM head over the sample rows. */
  LM_HEAD("lm_head"),
  /** Picking each sample row's token: argmax, or the seeded draw. */
  SAMPLING("sampling");

  /** Every family, in step order (their ordinals index a profile's per-family lists). */
  public static final List<KernelFamily> ALL = List.of(values());

  private final String key;

  KernelFamily(String key) {
    this.key = key;
  }

  /** The family's name in report.json and the console: "qkv_proj", "attention", ... */
  public String key() {
    return key;
  }
}
