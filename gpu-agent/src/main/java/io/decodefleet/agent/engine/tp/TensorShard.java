package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rank {@code rank} of a {@code size}-way tensor-parallel group (Megatron-style): the rank holds
 * query and KV heads {@code [rank * heads / size, (rank + 1) * heads / size)}, the same slice of
 * the MLP's intermediate columns (of every expert, in a mixture of experts), and whole copies of
 * the embedding, norms, router and LM head. Its
 * q/k/v and gate/up projections are row slices of the full matrices; its o and down projections
 * are column slices, so each rank's output of those two is a partial sum that one all-reduce
 * completes.
 */
public record TensorShard(int rank, int size) {

  /** The whole model on one device. */
  public static final TensorShard WHOLE = new TensorShard(0, 1);

  public TensorShard {
    if (size < 1 || rank < 0 || rank >= size) {
      throw new IllegalArgumentException("tensor-parallel rank " + rank + " of " + size + " is not a rank");
    }
  }

  public boolean whole() {
    return size == 1;
  }

  /** Why {@code config} cannot be split {@code size} ways, or empty when it can. */
  public static Optional<String> unsplittable(ModelConfig config, int size) {
    List<String> problems = new ArrayList<>();
    if (config.numAttentionHeads() % size != 0) {
      problems.add("num_attention_heads " + config.numAttentionHeads() + " is not a multiple of " + size);
    }
    if (config.numKeyValueHeads() % size != 0) {
      problems.add("num_key_value_heads " + config.numKeyValueHeads() + " is not a multiple of " + size);
    }
    if (config.intermediateSize() % size != 0) {
      problems.add("intermediate_size " + config.intermediateSize() + " is not a multiple of " + size);
    }
    if (config.isMoe() && config.moe().moeIntermediateSize() % size != 0) {
      problems.add("moe_intermediate_size " + config.moe().moeIntermediateSize() + " is not a multiple of " + size);
    }
    return problems.isEmpty() ? Optional.empty()
        : Optional.of("model " + config.name() + " cannot be split " + size + " ways: " + String.join("; ", problems));
  }

  /**
   * The rank's own model: the full config with {@code 1/size} of the heads and of the
   * intermediate size (hidden size, layers, vocabulary and head dim unchanged).
   */
  public ModelConfig of(ModelConfig full) {
    if (size == 1) return full;
    unsplittable(full, size).ifPresent(why -> {
      throw new IllegalArgumentException(why);
    });
    MoeConfig moe = full.moe() == null ? null : new MoeConfig(full.moe().numExperts(), full.moe().expertsPerToken(),
        full.moe().moeIntermediateSize() / size, full.moe().normTopkProb());
    return new ModelConfig(full.name() + " [tp " + rank + "/" + size + "]", full.hiddenSize(),
        full.intermediateSize() / size, full.numAttentionHeads() / size, full.numKeyValueHeads() / size,
        full.numHiddenLayers(), full.vocabSize(), full.ropeTheta(), full.rmsNormEps(), full.headDim(),
        full.maxPositionEmbeddings(), full.tieWordEmbeddings(), full.attentionBias(), full.qkNorm(), moe,
        full.ropeScaling());
  }

  /**
   * Where a rank's part of a row-major (rows, cols) tensor lies in the full tensor's element
   * indices: element i of the part is full element {@code base + i} when {@code cols == 0}, else
   * {@code base + (i / cols) * rowStride + i % cols}.
   *
   * @param elements how many elements the part has
   */
  public record Window(long base, int cols, long rowStride, long elements) {
    /** The full-tensor index of the part's element {@code i}. */
    public long index(long i) {
      return cols == 0 ? base + i : base + (i / cols) * rowStride + i % cols;
    }
  }

  /** The whole tensor of {@code elements} elements. */
  public static Window all(long elements) {
    return new Window(0, 0, 0, elements);
  }

  /** This rank's rows of a (rows, cols) tensor whose rows are split: q/k/v, gate and up. */
  public Window rowSlice(long rows, long cols) {
    long part = rows / size;
    return new Window(rank * part * cols, 0, 0, part * cols);
  }

  /** This rank's columns of a (rows, cols) tensor whose columns are split: o and down. */
  public Window columnSlice(long rows, long cols) {
    if (size == 1) return all(rows * cols);
    long part = cols / size;
    return new Window(rank * part, Math.toIntExact(part), cols, rows * part);
  }
}
