package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;

/** Where a model's weights come from: the dummy hash, or a checked checkpoint. */
public sealed interface WeightSource {

  /** Each element a pure function of (seed, tensor, index): {@link DummyWeights}. */
  record Dummy(long seed) implements WeightSource {}

  /** The safetensors of a model directory, every header already checked against its config. */
  record Checkpoint(CheckedCheckpoint checkpoint) implements WeightSource {}
}
