package io.decodefleet.agent.backend.cpu;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The in-process exchange through which CPU agents of one JVM hand KV pages to each other: the
 * CPU backend's stand-in for NCCL, so the hand-off logic of the disaggregated layout runs (and is
 * tested) where there is no GPU. A group is keyed by its unique id; each ordered pair of ranks has
 * one FIFO lane, from which the receiving {@link CpuKvTransport} hands payloads to its receives in
 * the order they were issued, so a pair's sends and receives match in that order, as with NCCL.
 * CPU agents in different processes cannot share a group: joining one times out and says so.
 */
final class CpuKvFabric {

  private static final Map<String, Group> GROUPS = new ConcurrentHashMap<>();

  private CpuKvFabric() {}

  /** One group: its members and its lanes. */
  static final class Group {
    private final String key;
    private final int nranks;
    private final Set<Integer> members = ConcurrentHashMap.newKeySet();
    private final CountDownLatch everyone;
    /** (from * nranks + to) -> payloads in send order: per layer (2, numPages, pageElems) float32. */
    private final Map<Integer, Queue<float[][]>> lanes = new ConcurrentHashMap<>();
    private volatile String abortReason;

    private Group(String key, int nranks) {
      this.key = key;
      this.nranks = nranks;
      this.everyone = new CountDownLatch(nranks);
    }

    void send(int from, int to, float[][] payload) {
      lanes.computeIfAbsent(from * nranks + to, k -> new ConcurrentLinkedQueue<>()).add(payload);
    }

    /** The oldest payload {@code from} sent to {@code to}, or null when none has arrived. */
    float[][] poll(int from, int to) {
      Queue<float[][]> lane = lanes.get(from * nranks + to);
      return lane == null ? null : lane.poll();
    }

    void abort(String reason) {
      if (abortReason == null) abortReason = reason;
    }

    String abortReason() {
      return abortReason;
    }

    /** Rank {@code rank} leaves; the last one out removes the group. */
    void leave(int rank) {
      members.remove(rank);
      if (members.isEmpty()) GROUPS.remove(key, this);
    }
  }

  /**
   * Joins rank {@code rank} of {@code nranks} to the group of {@code id} and waits until every
   * rank has joined; throws, naming who is missing, after {@code timeout}.
   */
  static Group join(byte[] id, int rank, int nranks, Duration timeout) {
    String key = HexFormat.of().formatHex(id);
    Group g = GROUPS.computeIfAbsent(key, k -> new Group(k, nranks));
    if (g.nranks != nranks) {
      throw new IllegalArgumentException("in-process KV group: rank " + rank + " says " + nranks
          + " ranks but the group has " + g.nranks);
    }
    if (!g.members.add(rank)) {
      throw new IllegalArgumentException("in-process KV group: rank " + rank + " joined twice");
    }
    g.everyone.countDown();
    try {
      if (!g.everyone.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        g.leave(rank);
        throw new IllegalStateException("in-process KV group: only " + g.members.size() + " of " + nranks
            + " ranks joined within " + timeout.toMillis() / 1000.0 + " s (CPU agents hand KV only to agents of"
            + " the same process)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      g.leave(rank);
      throw new IllegalStateException("in-process KV group: interrupted while rank " + rank + " waited", e);
    }
    return g;
  }
}
