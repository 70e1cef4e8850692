package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.kernels.cuda.PagedKvTransfer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The CPU backend's member of a KV group: pages are packed with the reference of the
 * pack kernel ({@link PagedKvTransfer}) into one (2, numPages, pageElems) float32 array per layer,
 * handed over through the {@link CpuKvFabric}, and unpacked the same way. Times are host times.
 *
 * <p>As with NCCL, a receive is bound to its place in the pair's order when it is issued, not when
 * it is polled: the n-th receive from a peer takes the n-th payload that peer sent here. The
 * engine polls its transfers in any order, so a receive that finds a payload in the lane hands it
 * to the oldest receive still waiting, which may be another one. A payload of the wrong size, or a
 * receive that waits past the group's timeout, means the order is lost: the group is aborted, as
 * NCCL's watchdog aborts its communicator, so no later transfer takes a payload meant for another.
 */
final class CpuKvTransport implements KvTransport {

  private final CpuKvFabric.Group group;
  private final KvGroupSpec spec;
  private final float[][] kCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private final float[][] vCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private final int pageElems; // blockSize * kvHeads * headDim
  /** Per peer, the receives issued that have no payload yet, in issue order. */
  private final Map<Integer, ArrayDeque<Arrival>> awaiting = new HashMap<>();
  private boolean closed;

  private CpuKvTransport(CpuKvFabric.Group group, KvGroupSpec spec, float[][] kCache, float[][] vCache,
      int pageElems) {
    this.group = group;
    this.spec = spec;
    this.kCache = kCache;
    this.vCache = vCache;
    this.pageElems = pageElems;
  }

  static CpuKvTransport join(KvGroupSpec spec, float[][] kCache, float[][] vCache, int pageElems) {
    return new CpuKvTransport(CpuKvFabric.join(spec.id(), spec.rank(), spec.nranks(), spec.timeout()), spec, kCache,
        vCache, pageElems);
  }

  @Override
  public int rank() {
    return spec.rank();
  }

  @Override
  public String description() {
    return "in-process CPU exchange, rank " + spec.rank() + " of " + spec.nranks() + ", " + spec.mode()
        + " transfers (the CPU has one way)";
  }

  private long bytes(int numPages) {
    return 2L * kCache.length * numPages * pageElems * Float.BYTES;
  }

  @Override
  public Transfer send(int peer, int[] pages) {
    String unusable = unusable();
    if (unusable != null) return new Done(bytes(pages.length), Double.NaN, unusable);
    long t0 = System.nanoTime();
    float[][] payload = new float[kCache.length][];
    for (int l = 0; l < kCache.length; l++) {
      payload[l] = new float[2 * pages.length * pageElems];
      PagedKvTransfer.pack(kCache[l], vCache[l], pages, pages.length, pageElems, payload[l]);
    }
    group.send(spec.rank(), peer, payload);
    return new Done(bytes(pages.length), (System.nanoTime() - t0) / 1e6, null);
  }

  @Override
  public Transfer receive(int peer, int numPages, int[] pages) {
    if (pages != null && pages.length != numPages) {
      throw new IllegalArgumentException("receive: " + pages.length + " pages for " + numPages + " arriving");
    }
    Arrival a = new Arrival(peer, numPages, pages, System.nanoTime() + spec.timeout().toNanos());
    awaiting.computeIfAbsent(peer, p -> new ArrayDeque<>()).add(a);
    return a;
  }

  /** Hands the payloads {@code peer} sent here, oldest first, to the receives waiting for them in issue order. */
  private void deliver(int peer) {
    ArrayDeque<Arrival> waiting = awaiting.get(peer);
    while (waiting != null && !waiting.isEmpty() && unusable() == null) { // a payload of the wrong size aborts
      float[][] payload = group.poll(peer, spec.rank());
      if (payload == null) return;
      waiting.poll().take(payload);
    }
  }

  @Override
  public void abort(String reason) {
    group.abort(reason);
  }

  @Override
  public String abortReason() {
    return group.abortReason();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      group.leave(spec.rank());
    }
  }

  private String unusable() {
    if (closed) return "the KV-transfer member is closed";
    String why = group.abortReason();
    return why == null ? null : "KV-transfer group aborted: " + why;
  }

  /** A transfer that is over when made (a send: the payload is handed to the lane at once). */
  private record Done(long bytes, double millis, String failure) implements Transfer {
    @Override
    public boolean poll() {
      return true;
    }

    @Override
    public boolean pagesQuiet() {
      return true;
    }
  }

  /** A receive: over once the sender's payload is in the lane (or the group aborted, or time ran out). */
  private final class Arrival implements Transfer {
    private final int peer;
    private final int numPages;
    private final int[] pages;
    private final long deadline;
    private boolean over;
    private double millis = Double.NaN;
    private String failure;

    Arrival(int peer, int numPages, int[] pages, long deadline) {
      this.peer = peer;
      this.numPages = numPages;
      this.pages = pages;
      this.deadline = deadline;
    }

    @Override
    public boolean poll() {
      if (over) return true;
      String unusable = unusable();
      if (unusable != null) return fail(unusable);
      deliver(peer);
      if (over) return true;
      if (System.nanoTime() - deadline > 0) {
        return abortAndFail("no KV from rank " + peer + " within " + spec.timeout().toMillis() / 1000.0 + " s");
      }
      return false;
    }

    /** This receive's payload: the one its place in the pair's order gives it. */
    void take(float[][] payload) {
      long t0 = System.nanoTime();
      for (int l = 0; l < payload.length; l++) {
        if (payload[l].length != 2 * numPages * pageElems) {
          abortAndFail("rank " + peer + " sent " + payload[l].length / (2 * pageElems) + " pages, " + numPages
              + " expected: the pair's sends and receives are out of order");
          return;
        }
      }
      if (pages != null) {
        for (int l = 0; l < payload.length; l++) {
          PagedKvTransfer.unpack(payload[l], pages, numPages, pageElems, kCache[l], vCache[l]);
        }
      }
      millis = (System.nanoTime() - t0) / 1e6;
      over = true;
    }

    /** The pair's order is lost: every later transfer of the group must fail rather than match the wrong one. */
    private boolean abortAndFail(String why) {
      group.abort(why);
      return fail(why);
    }

    private boolean fail(String why) {
      failure = why;
      over = true;
      ArrayDeque<Arrival> waiting = awaiting.get(peer);
      if (waiting != null) waiting.remove(this);
      return true;
    }

    @Override
    public long bytes() {
      return CpuKvTransport.this.bytes(numPages);
    }

    @Override
    public double millis() {
      return failure == null ? millis : Double.NaN;
    }

    @Override
    public String failure() {
      return failure;
    }

    @Override
    public boolean pagesQuiet() {
      return true;
    }
  }
}
