package io.decodefleet.agent.backend.cpu;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The all-reduce of CPU tensor-parallel ranks in one JVM, each on its own thread: the CPU
 * backend's counterpart of an NCCL sum all-reduce. Every rank publishes its partial sums, every
 * rank adds all of them up in rank order (so every rank gets bit-identical sums), and a second
 * barrier keeps a rank from overwriting its buffer while a peer still reads it. A rank that does
 * not arrive within the timeout breaks the barrier for everyone, with a message naming the call.
 */
final class CpuTensorGroup {

  private static final Map<String, CpuTensorGroup> GROUPS = new ConcurrentHashMap<>();

  private final String key;
  private final int size;
  private final Duration timeout;
  private final float[][] published;
  private final Object[] exchanged;
  private final CyclicBarrier barrier;
  private int members;
  private volatile boolean aborted;

  private CpuTensorGroup(String key, int size, Duration timeout) {
    this.key = key;
    this.size = size;
    this.timeout = timeout;
    this.published = new float[size][];
    this.exchanged = new Object[size];
    this.barrier = new CyclicBarrier(size);
  }

  /** Rank {@code rank}'s handle on the group of {@code id}; waits until all {@code size} ranks joined. */
  static CpuTensorGroup join(byte[] id, int rank, int size, Duration timeout) {
    String key = HexFormat.of().formatHex(id);
    CpuTensorGroup g = GROUPS.computeIfAbsent(key, k -> new CpuTensorGroup(k, size, timeout));
    synchronized (g) {
      if (g.size != size) {
        throw new IllegalArgumentException("CPU tensor group: rank " + rank + " says " + size + " ranks but the group has "
            + g.size);
      }
      g.members++;
    }
    g.await(rank, "joining");
    return g;
  }

  /** Replaces {@code data[0, count)} on every rank by the sum over ranks (rank order). */
  void allReduceSum(int rank, float[] data, int count) {
    published[rank] = data;
    await(rank, "all-reduce of " + count + " floats");
    float[] sum = new float[count];
    for (int r = 0; r < size; r++) {
      float[] part = published[r];
      for (int i = 0; i < count; i++) sum[i] += part[i];
    }
    await(rank, "all-reduce of " + count + " floats");
    System.arraycopy(sum, 0, data, 0, count);
  }

  /**
   * Every rank's {@code mine}, in rank order, on every rank: the in-process all-to-all of expert
   * parallelism's dispatch and combine, where each rank then reads only the parts addressed to it.
   * Each rank hands a fresh object that nobody changes afterwards; a second barrier keeps a fast rank's
   * next exchange from replacing its entry before every peer has taken this one.
   */
  Object[] exchange(int rank, Object mine, String call) {
    exchanged[rank] = mine;
    await(rank, call);
    Object[] all = exchanged.clone();
    await(rank, call);
    return all;
  }

  /** Wakes every rank waiting in a collective with an error; the group stays broken, as NCCL's. */
  void abort() {
    aborted = true;
    barrier.reset();
  }

  void leave() {
    synchronized (this) {
      if (--members <= 0) GROUPS.remove(key, this);
    }
  }

  private void await(int rank, String call) {
    if (aborted) {
      throw new IllegalStateException("CPU tensor group: " + call + " on rank " + rank + " of " + size
          + ": the group was aborted (a peer failed or timed out)");
    }
    try {
      barrier.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("CPU tensor group: " + call + " on rank " + rank + " of " + size
          + ": a peer did not arrive within " + timeout.toSeconds() + " s");
    } catch (BrokenBarrierException e) {
      throw new IllegalStateException("CPU tensor group: " + call + " on rank " + rank + " of " + size
          + ": the group was aborted (a peer failed or timed out)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("CPU tensor group: " + call + " on rank " + rank + " interrupted");
    }
  }
}
