package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelLoad;

/** A rank that passes every call to a real one: tests override a call to inject a fault. */
class ForwardingBackend implements TensorParallelRank {
  private final TensorParallelRank inner;

  ForwardingBackend(TensorParallelRank inner) {
    this.inner = inner;
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public String deviceDescription() {
    return inner.deviceDescription();
  }

  @Override
  public void loadModel(ModelLoad load) {
    inner.loadModel(load);
  }

  @Override
  public int kvBlockCapacity(int blockSize) {
    return inner.kvBlockCapacity(blockSize);
  }

  @Override
  public void allocateKvCache(int numBlocks, int blockSize) {
    inner.allocateKvCache(numBlocks, blockSize);
  }

  @Override
  public float[] forward(ForwardBatch batch) {
    return inner.forward(batch);
  }

  @Override
  public int[] forwardGreedy(ForwardBatch batch) {
    return inner.forwardGreedy(batch);
  }

  @Override
  public float[] forwardWithoutCache(int[] tokens) {
    return inner.forwardWithoutCache(tokens);
  }

  @Override
  public java.util.Optional<String> tensorParallelUnsupported() {
    return inner.tensorParallelUnsupported();
  }

  @Override
  public byte[] newTensorGroupId() {
    return inner.newTensorGroupId();
  }

  @Override
  public void joinTensorGroup(TensorGroupSpec spec) {
    inner.joinTensorGroup(spec);
  }

  @Override
  public void abortTensorGroup() {
    inner.abortTensorGroup();
  }

  @Override
  public void close() {
    inner.close();
  }
}
