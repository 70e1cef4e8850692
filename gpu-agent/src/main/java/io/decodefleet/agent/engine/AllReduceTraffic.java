package io.decodefleet.agent.engine;

/**
 * The all-reduces a tensor-parallel group ran over one or more forward steps: how many, and the
 * bytes each rank contributed to them. Every layer sums its o projection's and its down projection's
 * partial outputs over the group: two all-reduces of (tokens, hidden) float32 each (in-process on
 * the CPU backend, NCCL on CUDA agents). A CUDA graph replay also reduces its bucket's padding rows;
 * those are not counted, so both backends count the same bytes for the same steps.
 *
 * @param operations all-reduces run
 * @param bytes bytes each rank contributed, 4 per float32 element
 */
public record AllReduceTraffic(long operations, long bytes) {

  /** None: a single device, or expert parallelism (its experts' outputs are not all-reduced). */
  public static final AllReduceTraffic NONE = new AllReduceTraffic(0, 0);

  /** Bytes of one float32 element, the type the partial sums are reduced in. */
  public static final int ELEMENT_BYTES = 4;

  /** The all-reduces of one tensor-parallel forward step over {@code tokens} token rows of {@code c}. */
  public static AllReduceTraffic ofStep(ModelConfig c, int tokens) {
    long operations = 2L * c.numHiddenLayers();
    return new AllReduceTraffic(operations, operations * tokens * c.hiddenSize() * ELEMENT_BYTES);
  }

  /**
   * The all-reduces of one expert-parallel forward step whose ranks complete each mixture-of-experts
   * layer with one ({@link Backend#expertLayersAllReduce}): every layer's float32 output rows.
   */
  public static AllReduceTraffic ofExpertStep(ModelConfig c, int tokens) {
    long operations = c.numHiddenLayers();
    return new AllReduceTraffic(operations, operations * tokens * c.hiddenSize() * ELEMENT_BYTES);
  }

  public AllReduceTraffic plus(AllReduceTraffic o) {
    return new AllReduceTraffic(operations + o.operations, bytes + o.bytes);
  }

  /** This minus an earlier total. */
  public AllReduceTraffic minus(AllReduceTraffic o) {
    return new AllReduceTraffic(operations - o.operations, bytes - o.bytes);
  }
}
