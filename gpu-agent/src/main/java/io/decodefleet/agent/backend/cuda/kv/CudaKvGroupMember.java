package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaGraph;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.nccl.NcclCommunicator;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KvPackParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA backend's member of a KV group (the agents that can move KV to one another, each a {@code
 * KvTransport} to the engine): one NCCL communicator over the group, and the
 * pack / send and receive / unpack path of {@link KvTransferPlan} on a stream of its own.
 *
 * <ul>
 *   <li>Stream: non-blocking, apart from the decode stream, so a transfer waiting for its peer
 *       holds up neither the decode steps nor the context's synchronous copies.
 *   <li>Buffers: one chunk buffer (at most {@link KvTransferPlan#CHUNK_BYTES}) and one page list,
 *       reused by every transfer; the stream orders their reuse. The page list is copied in
 *       (asynchronously, from Java memory the driver stages at once) before each transfer.
 *   <li>Modes: eager launches pack and send (or receive and unpack) chunk by chunk; graph replays
 *       a CUDA graph of the same work, captured on first use per (direction, peer, page count).
 *   <li>Timing: two events on the stream around each transfer's device work.
 *   <li>Nothing hangs: each transfer has a watchdog that aborts the communicator when the
 *       transfer outlasts the group's timeout (a dead peer); {@link #abort} may come from any
 *       thread. After an abort every pending transfer fails; its pages are reused only once the
 *       device was seen to finish with them.
 * </ul>
 *
 * Engine thread only (the context is current there), except {@link #abort}.
 */
public final class CudaKvGroupMember implements KvTransport {

  /** How long an aborted transfer may take to leave the device before its pages are written off. */
  public static final long DRAIN_MILLIS = 10_000;
  /** Bytes each member sends to and receives from each peer when joining, checked value by value. */
  static final long CHECK_BYTES = 16L << 20;
  private static final int MAX_GRAPHS = 16;

  private record GraphKey(boolean send, int peer, int numPages, boolean discard) {}

  private final CudaContext ctx;
  private final KernelModule kernels;
  private final KvPool kv;
  private final KvGroupSpec spec;
  private final long comm;
  private final int pageElems;
  private final CudaStream stream;
  private final long streamAddress;
  private final DeviceBuffer chunk; // (2, chunkPages, pageElems) bf16
  private final DeviceBuffer pageList; // (layers * maxPages) int32
  private final String version;
  private final Map<GraphKey, CudaGraph> graphs = new LinkedHashMap<>(16, 0.75f, true);
  private final List<CudaKvTransfer> inFlight = new ArrayList<>();
  private volatile String abortReason;
  private boolean closed;

  private CudaKvGroupMember(CudaContext ctx, KernelModule kernels, KvPool kv, KvGroupSpec spec, long comm,
      CudaStream stream, DeviceBuffer chunk, DeviceBuffer pageList) {
    this.ctx = ctx;
    this.kernels = kernels;
    this.kv = kv;
    this.spec = spec;
    this.comm = comm;
    this.pageElems = kv.pageElems();
    this.stream = stream;
    this.streamAddress = NativeStream.address(stream);
    this.chunk = chunk;
    this.pageList = pageList;
    this.version = Nccl.versionText(Nccl.version());
  }

  /**
   * Joins the group on the calling thread (where {@code ctx} is current): creates the
   * communicator (every rank must join within the spec's timeout), the stream and buffers, and
   * checks a first exchange with every peer, value by value. On failure everything made here is
   * aborted or freed and the exception names the rank and GPU.
   *
   * @param maxPages the most pages (blocks) per layer one sequence can have here
   */
  public static CudaKvGroupMember join(CudaContext ctx, KernelModule kernels, KvPool kv, KvGroupSpec spec, int maxPages) {
    if (!Nccl.isAvailable()) {
      throw new IllegalStateException(Nccl.unavailabilityCause());
    }
    String who = "rank " + spec.rank() + " of " + spec.nranks() + " on " + ctx.gpu().label();
    long comm = NcclCommunicator.commInitRank(spec.nranks(), spec.id(), spec.rank(), ctx.gpu().index(), spec.timeout());
    List<AutoCloseable> made = new ArrayList<>();
    try {
      CudaStream stream = add(made, CudaStream.createNonBlocking(ctx));
      DeviceBuffer chunk = add(made, ctx.allocate(KvTransferPlan.bufferBytes(kv.layers(), maxPages, kv.pageElems())));
      DeviceBuffer pageList = add(made, ctx.allocate(4L * kv.layers() * Math.max(1, maxPages)));
      PeerCheck.run(ctx, stream, comm, spec, Math.min(CHECK_BYTES, chunk.bytes()));
      return new CudaKvGroupMember(ctx, kernels, kv, spec, comm, stream, chunk, pageList);
    } catch (RuntimeException e) {
      NcclCommunicator.commAbort(comm); // false when a failed NCCL call already aborted it
      for (int i = made.size() - 1; i >= 0; i--) {
        try {
          made.get(i).close();
        } catch (Exception ignored) {
          // The failure being reported is e.
        }
      }
      throw new IllegalStateException("joining the KV-transfer group as " + who + ": " + e.getMessage(), e);
    }
  }

  private static <T extends AutoCloseable> T add(List<AutoCloseable> made, T resource) {
    made.add(resource);
    return resource;
  }

  @Override
  public int rank() {
    return spec.rank();
  }

  @Override
  public String description() {
    return "NCCL " + version + (Nccl.nonBlockingComms() ? "" : " (blocking communicators)") + ", rank " + spec.rank()
        + " of " + spec.nranks() + " on " + ctx.gpu().label() + ", " + spec.mode() + " transfers in chunks of up to "
        + String.format(java.util.Locale.ROOT, "%.1f MiB", chunk.bytes() / 1048576.0);
  }

  @Override
  public Transfer send(int peer, int[] pages) {
    return start(true, peer, KvTransferPlan.of(kv.layers(), kv.numBlocks(), pages, pageElems), spec.mode());
  }

  @Override
  public Transfer receive(int peer, int numPages, int[] pages) {
    if (pages != null && pages.length != numPages) {
      throw new IllegalArgumentException("receive: " + pages.length + " pages for " + numPages + " arriving");
    }
    KvTransferPlan plan = pages == null ? KvTransferPlan.discard(kv.layers(), numPages, pageElems)
        : KvTransferPlan.of(kv.layers(), kv.numBlocks(), pages, pageElems);
    return start(false, peer, plan, spec.mode());
  }

  /** As {@link #send} / {@link #receive} in the given mode (the bench times both on one group). */
  public Transfer start(boolean send, int peer, KvTransferPlan plan, KvTransferMode mode) {
    return start(send, peer, plan, mode, false);
  }

  /**
   * With {@code ncclOnly}, the plan's chunks cross without pack or unpack (eagerly): what NCCL alone
   * takes for the same bytes, beside which the bench puts each transfer.
   */
  public Transfer start(boolean send, int peer, KvTransferPlan plan, KvTransferMode mode, boolean ncclOnly) {
    if (peer < 0 || peer >= spec.nranks() || peer == spec.rank()) {
      throw new IllegalArgumentException("peer " + peer + " is not another rank of " + spec.nranks());
    }
    if (plan.flatPages() > pageList.bytes() / 4) {
      throw new IllegalArgumentException(plan.numPages() + " pages per layer exceed the " + pageList.bytes() / 4
          / kv.layers() + " a sequence can have here");
    }
    CudaKvTransfer t = new CudaKvTransfer(this, plan.bytes(), peer);
    String unusable = unusable();
    if (unusable != null) {
      return t.failAtOnce(unusable);
    }
    try {
      t.events();
      if (!plan.discards() && !ncclOnly) {
        ctx.check(JCudaDriver.cuMemcpyHtoDAsync(pageList.pointer(), Pointer.to(plan.flat()), 4L * plan.flatPages(),
            stream.handle()), "cuMemcpyHtoDAsync(KV page list)");
      }
      t.recordStart();
      if (ncclOnly) {
        enqueue(send, peer, KvTransferPlan.discard(kv.layers(), plan.numPages(), pageElems), true);
      } else if (mode == KvTransferMode.GRAPH) {
        graph(send, peer, plan).launch(stream);
      } else {
        enqueue(send, peer, plan, false);
      }
      t.recordEnd();
    } catch (RuntimeException e) {
      String why = (send ? "sending" : "receiving") + " KV " + (send ? "to" : "from") + " rank " + peer + ": "
          + e.getMessage();
      abort(why); // a failed launch or NCCL call leaves the group's order unknown
      return t.failAfterEnqueue(why);
    }
    track(t);
    t.arm();
    return t;
  }

  private void enqueue(boolean send, int peer, KvTransferPlan plan, boolean ncclOnly) {
    for (int c = 0; c < plan.chunks(); c++) {
      if (send) {
        if (!ncclOnly) launch(Kernel.KV_PACK, plan, c);
        Nccl.send(chunk.address(), plan.chunkElems(c), Nccl.DataType.BFLOAT16, peer, streamAddress, comm);
      } else {
        Nccl.recv(chunk.address(), plan.chunkElems(c), Nccl.DataType.BFLOAT16, peer, streamAddress, comm);
        if (!plan.discards()) launch(Kernel.KV_UNPACK, plan, c);
      }
    }
  }

  private void launch(Kernel kernel, KvTransferPlan plan, int c) {
    // kCache: the pool's start; vCache: layer 0's V pool (see KvTransferPlan for the page indices).
    KvPackParams p = new KvPackParams(chunk.address(), kv.keys(0), kv.values(0),
        pageList.address(4L * plan.chunkStart(c)), plan.chunkCount(c), pageElems);
    kernels.launch(kernel, p.launch(kernel), p, stream);
  }

  private CudaGraph graph(boolean send, int peer, KvTransferPlan plan) {
    GraphKey key = new GraphKey(send, peer, plan.numPages(), plan.discards());
    CudaGraph g = graphs.get(key);
    if (g == null) {
      if (graphs.size() >= MAX_GRAPHS && inFlight.isEmpty()) {
        var eldest = graphs.entrySet().iterator().next();
        eldest.getValue().close();
        graphs.remove(eldest.getKey());
      }
      g = CudaGraph.captureOnThisThread(stream, () -> enqueue(send, peer, plan, false));
      graphs.put(key, g);
    }
    return g;
  }

  @Override
  public void abort(String reason) {
    synchronized (this) {
      if (abortReason != null) return;
      abortReason = reason;
    }
    try {
      NcclCommunicator.commAbort(comm); // frees a stream stuck on a dead peer; false if a failed call already did
    } catch (RuntimeException e) {
      // Nothing more to do: the communicator is unusable either way.
    }
  }

  @Override
  public String abortReason() {
    return abortReason;
  }

  private String unusable() {
    if (closed) return "the KV-transfer member was closed";
    return abortReason == null ? null : "the KV-transfer group was aborted: " + abortReason;
  }

  @Override
  public void close() {
    if (closed) return;
    if (!inFlight.isEmpty()) abort("left the group with " + inFlight.size() + " transfers in flight");
    closed = true;
    boolean drained = waitIdle(DRAIN_MILLIS);
    // Graphs that captured NCCL calls use the communicator: destroy them before it (NCCL's order;
    // with the reverse order the graph mode of `bench kv-transfer` never returned from leaving).
    for (CudaKvTransfer t : new ArrayList<>(inFlight)) t.release();
    for (CudaGraph g : graphs.values()) g.close();
    graphs.clear();
    if (abortReason == null) {
      try {
        NcclCommunicator.commDestroy(comm, Duration.ofSeconds(5)); // aborts it on failure or timeout
      } catch (RuntimeException e) {
        // Leaving is best effort.
      }
    }
    if (drained) {
      // Only when the device is done with them: freeing under a stuck kernel would wait for it.
      chunk.close();
      pageList.close();
      stream.close();
    }
  }

  /** Polls the stream until it is idle or {@code millis} passed; true when idle. */
  private boolean waitIdle(long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    try {
      while (!stream.isIdle()) {
        if (System.nanoTime() - deadline > 0) return false;
        Thread.sleep(1);
      }
      return true;
    } catch (RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  CudaContext context() {
    return ctx;
  }

  CudaStream stream() {
    return stream;
  }

  Duration timeout() {
    return spec.timeout();
  }

  void forget(CudaKvTransfer t) {
    inFlight.remove(t);
  }

  void track(CudaKvTransfer t) {
    inFlight.add(t);
  }

  /** Throws nothing: when NCCL has noticed a peer's failure, the group is aborted with NCCL's message. */
  void checkPeers() {
    try {
      NcclCommunicator.checkAsyncError(comm); // aborts the communicator and throws on an asynchronous error
    } catch (RuntimeException e) {
      abort(e.getMessage());
    }
  }
}
