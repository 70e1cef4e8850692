package io.decodefleet.agent.engine.tp;

/** What the ranks of one model replica split between them. */
public enum Parallelism {
  /** Megatron tensor parallelism ({@link TensorShard}): heads and MLP columns, an all-reduce after each. */
  TENSOR("tp"),
  /**
   * Expert parallelism ({@link ExpertShard}): a mixture's experts, each rank attending its own
   * sequences (data-parallel attention), tokens dispatched to their experts' ranks and combined back.
   */
  EXPERT("ep");

  private final String key;

  Parallelism(String key) {
    this.key = key;
  }

  /** "tp" or "ep", as --layout names it. */
  public String key() {
    return key;
  }
}
