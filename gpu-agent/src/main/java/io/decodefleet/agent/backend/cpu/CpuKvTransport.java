package io.decodefleet.agent.backend.cpu;

import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.kernels.cuda.PagedKvTransfer;

/**
 * The CPU backend's member of a KV group: pages are packed with the reference of the
 * pack kernel ({@link PagedKvTransfer}) into one (2, numPages, pageElems) float32 array per layer,
 * handed over through the {@link CpuKvFabric}, and unpacked the same way. Times are host times.
 */
final class CpuKvTransport implements KvTransport {

  private final CpuKvFabric.Group group;
  private final KvGroupSpec spec;
  private final float[][] kCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private final float[][] vCache; // per layer (numBlocks, blockSize, kvHeads, headDim)
  private final int pageElems; // blockSize * kvHeads * headDim
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
    return new Arrival(peer, numPages, pages, System.nanoTime() + spec.timeout().toNanos());
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
      float[][] payload = group.poll(peer, spec.rank());
      if (payload == null) {
        return System.nanoTime() - deadline > 0
            && fail("no KV from rank " + peer + " within " + spec.timeout().toMillis() / 1000.0 + " s");
      }
      long t0 = System.nanoTime();
      for (int l = 0; l < payload.length; l++) {
        if (payload[l].length != 2 * numPages * pageElems) {
          return fail("rank " + peer + " sent " + payload[l].length / (2 * pageElems) + " pages, " + numPages
              + " expected: the pair's sends and receives are out of order");
        }
        if (pages != null) PagedKvTransfer.unpack(payload[l], pages, numPages, pageElems, kCache[l], vCache[l]);
      }
      millis = (System.nanoTime() - t0) / 1e6;
      over = true;
      return true;
    }

    private boolean fail(String why) {
      failure = why;
      over = true;
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
