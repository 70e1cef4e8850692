package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.KvNoise;
import io.decodefleet.agent.backend.cuda.StepPlan;
import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.kv.CudaKvGroupMember;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.agent.backend.cuda.kv.KvTransferPlan;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransport;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.nccl.Nccl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * One sequence's KV of a model's shape moved from GPU a to GPU b through {@link CudaKvGroupMember},
 * the path the disaggregated layout uses: pack, NCCL send, receive, unpack. For each context
 * length and each mode (eager, graph), one thread per GPU, each with a KV pool of noise, a
 * scattered block table on each side, and one group per mode (a graph that cannot be captured
 * costs that mode only). Before timing, the receiver's pages must equal the sender's, page by
 * page, through plain copies (not through the kernels under test).
 *
 * <p>Timing per repetition: both threads meet at a barrier, enqueue their side and wait for it;
 * each side's time is from CUDA events around its device work; the repetition's time is the
 * shorter side (the side that posted first also timed its wait). Reported: the median over
 * repetitions, the host time of enqueueing the sender's side (what a graph saves), and beside
 * them the same bytes through NCCL send/recv alone, in the same chunks.
 */
public final class KvTransferBench {

  /** Contexts of the issue: 512, 2048 and 8192 tokens. */
  public static final List<Integer> DEFAULT_CONTEXTS = List.of(512, 2048, 8192);

  /** What to measure. */
  public record Settings(ModelConfig model, List<Integer> contexts, int blockSize, int warmup, int reps,
      Duration timeout) {
    public Settings {
      contexts = List.copyOf(contexts);
      if (contexts.isEmpty() || contexts.stream().anyMatch(c -> c < 1)) {
        throw new IllegalArgumentException("--contexts: give token counts >= 1, got " + contexts);
      }
      if (blockSize < 1 || blockSize > 1024) throw new IllegalArgumentException("--block-size must be in 1..1024");
      if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0 but is " + warmup);
      if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1 but is " + reps);
      if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("--timeout must be positive");
    }

    int maxPages() {
      return StepPlan.blocksFor(contexts.stream().mapToInt(Integer::intValue).max().orElse(1), blockSize);
    }
  }

  /**
   * One variant at one context: medians over repetitions, or why it could not run.
   *
   * @param ms the transfer: per repetition the shorter side, median
   * @param hostUs host time of enqueueing the sender's side, median
   * @param verified the receiver's pages equalled the sender's (eager and graph; always true for NCCL alone)
   */
  public record Timing(double ms, double sendMs, double receiveMs, double hostUs, boolean verified, String failure) {
    static Timing failed(String why) {
      return new Timing(Double.NaN, Double.NaN, Double.NaN, Double.NaN, false, why);
    }

    public double gbPerSecond(long bytes) {
      return ms > 0 ? bytes / ms / 1e6 : Double.NaN;
    }
  }

  /** One context length: its bytes and the three ways of moving them. */
  public record Row(int context, int pages, long bytes, Timing eager, Timing graph, Timing ncclOnly) {}

  private KvTransferBench() {}

  /** Measures every context in both modes between {@code a} (sender) and {@code b} (receiver). */
  public static List<Row> run(GpuInfo a, GpuInfo b, Settings s) {
    return run(a, b, s, line -> {});
  }

  /** As {@link #run(GpuInfo, GpuInfo, Settings)}, saying each step as it finishes to {@code progress}. */
  public static List<Row> run(GpuInfo a, GpuInfo b, Settings s, java.util.function.Consumer<String> progress) {
    if (!Nccl.isAvailable()) throw new IllegalStateException(Nccl.unavailabilityCause());
    Timing[][] eager = phase(a, b, s, KvTransferMode.EAGER, progress); // [context][0: transfer, 1: NCCL alone]
    Timing[][] graph = phase(a, b, s, KvTransferMode.GRAPH, progress);
    int pageElems = s.blockSize() * s.model().kvSize();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < s.contexts().size(); i++) {
      int pages = StepPlan.blocksFor(s.contexts().get(i), s.blockSize());
      long bytes = KvTransferPlan.discard(s.model().numHiddenLayers(), pages, pageElems).bytes();
      rows.add(new Row(s.contexts().get(i), pages, bytes, eager[i][0], graph[i][0], eager[i][1]));
    }
    return rows;
  }

  /** One group, one mode, every context; a failure fills the rest of the table with its reason. */
  private static Timing[][] phase(GpuInfo a, GpuInfo b, Settings s, KvTransferMode mode,
      java.util.function.Consumer<String> progress) {
    int n = s.contexts().size();
    Timing[][] out = new Timing[n][2];
    double[][][] ms = new double[2][s.reps()][2]; // [rank][rep][0: transfer, 1: NCCL alone]
    double[][] host = new double[s.reps()][1];
    long[] digests = new long[2];
    boolean[] verified = new boolean[1];
    Meeting barrier = new Meeting();
    AtomicReferenceArray<KvTransport> members = new AtomicReferenceArray<>(2);
    byte[] id = Nccl.uniqueId();
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "kv-transfer-bench");
      t.setDaemon(true); // a rank stuck in the driver must not keep the JVM alive
      return t;
    });
    int done = 0;
    try {
      List<Future<?>> ranks = new ArrayList<>();
      for (int rank = 0; rank < 2; rank++) {
        int r = rank;
        ranks.add(pool.submit(() -> {
          side(r, r == 0 ? a : b, s, mode, id, barrier, members, ms, host, digests, verified, out, progress);
          return null;
        }));
      }
      RuntimeException failure = await(ranks);
      for (Timing[] t : out) done += t[0] != null ? 1 : 0;
      if (failure != null) {
        for (int i = done; i < n; i++) {
          out[i][0] = Timing.failed(mode + ": " + failure.getMessage());
          if (out[i][1] == null) out[i][1] = Timing.failed(failure.getMessage());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return out;
  }

  /**
   * Waits for both sides and returns the root failure, or null. A side that fails breaks the
   * barrier and aborts the other side's group itself (see {@link #side}), so neither waits long.
   */
  private static RuntimeException await(List<Future<?>> ranks) {
    RuntimeException failure = null;
    for (int r = 0; r < ranks.size(); r++) {
      try {
        ranks.get(r).get();
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        boolean secondary = cause instanceof java.util.concurrent.BrokenBarrierException
            || cause.getMessage() != null && cause.getMessage().contains("the other side of the bench failed");
        if (failure == null || !secondary && failure.getMessage().startsWith("secondary")) {
          failure = new IllegalStateException((secondary ? "secondary " : "") + (r == 0 ? "sender" : "receiver")
              + ": " + oneLine(cause), cause);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new IllegalStateException("interrupted", e);
      }
    }
    return failure == null ? null : new IllegalStateException(failure.getMessage().replaceFirst("^secondary ", ""),
        failure.getCause());
  }

  private static void side(int rank, GpuInfo gpu, Settings s, KvTransferMode mode, byte[] id, Meeting barrier,
      AtomicReferenceArray<KvTransport> members, double[][][] ms, double[][] host, long[] digests, boolean[] verified,
      Timing[][] out, java.util.function.Consumer<String> progress) throws Exception {
    java.util.function.Consumer<String> say = rank == 0 ? progress : line -> {};
    try {
      measure(rank, gpu, s, mode, id, barrier, members, ms, host, digests, verified, out, say);
    } catch (Exception | Error e) {
      barrier.breakOff(); // the other side stops waiting at the barrier ...
      KvTransport other = members.get(1 - rank);
      if (other != null) other.abort("the other side of the bench failed"); // ... or on a transfer
      throw e;
    }
  }

  private static void measure(int rank, GpuInfo gpu, Settings s, KvTransferMode mode, byte[] id,
      Meeting barrier, AtomicReferenceArray<KvTransport> members, double[][][] ms, double[][] host,
      long[] digests, boolean[] verified, Timing[][] out, java.util.function.Consumer<String> say) throws Exception {
    long started = System.nanoTime();
    java.util.function.Consumer<String> stamp = what -> say.accept(String.format(java.util.Locale.ROOT,
        "  [%6.1f s] %s %s", (System.nanoTime() - started) / 1e9, mode, what));
    ModelConfig c = s.model();
    int maxPages = s.maxPages();
    int numBlocks = 2 * maxPages + 3; // room to scatter a table
    long wait = s.timeout().toMillis();
    try (CudaContext ctx = CudaContext.open(gpu);
        KernelModule kernels = KernelModule.load(ctx);
        KvPool kv = KvPool.allocate(ctx, c, numBlocks, s.blockSize());
        CudaStream fill = ctx.newStream()) {
      KvNoise.fill(ctx, kernels, fill, kv, 17 + rank);
      stamp.accept("KV pools of " + numBlocks + " blocks filled; joining the group");
      CudaKvGroupMember member = CudaKvGroupMember.join(ctx, kernels, kv,
          new KvGroupSpec(id, rank, 2, List.of(1 - rank), mode, s.timeout()), maxPages);
      members.set(rank, member);
      stamp.accept("group formed: " + member.description());
      try {
        for (int i = 0; i < s.contexts().size(); i++) {
          int pages = StepPlan.blocksFor(s.contexts().get(i), s.blockSize());
          int[] table = table(pages, numBlocks, 1000L * rank + i);
          KvTransferPlan plan = KvTransferPlan.of(c.numHiddenLayers(), numBlocks, table, kv.pageElems());
          // Values first: fresh noise on the receiver, one transfer, then every page compared.
          if (rank == 1) KvNoise.fill(ctx, kernels, fill, kv, 100 + i);
          barrier.meet(wait);
          finish(member.start(rank == 0, 1 - rank, plan, mode), wait);
          stamp.accept(s.contexts().get(i) + " tokens: first transfer done, comparing pages");
          digests[rank] = digest(ctx, kv, table);
          barrier.meet(wait);
          verified[0] = digests[0] == digests[1];
          barrier.meet(wait);
          if (!verified[0]) {
            throw new IllegalStateException(mode + " transfer of " + s.contexts().get(i) + " tokens: the receiver's "
                + "pages differ from the sender's");
          }
          stamp.accept(s.contexts().get(i) + " tokens: pages equal; timing");
          Timing transfer = time(rank, member, plan, mode, false, s, barrier, ms, host, 0);
          stamp.accept(String.format(java.util.Locale.ROOT, "%d tokens: transfer %.3f ms", s.contexts().get(i),
              transfer.ms()));
          Timing alone = mode == KvTransferMode.EAGER
              ? time(rank, member, plan, mode, true, s, barrier, ms, host, 1) : null;
          if (rank == 0) {
            out[i][0] = transfer;
            out[i][1] = alone;
          }
          barrier.meet(wait);
        }
      } finally {
        members.set(rank, null);
        member.close();
      }
    }
  }

  /** Warm-up, then timed repetitions; the sender's thread summarises once both sides are in. */
  private static Timing time(int rank, CudaKvGroupMember member, KvTransferPlan plan, KvTransferMode mode,
      boolean ncclOnly, Settings s, Meeting barrier, double[][][] ms, double[][] host, int slot)
      throws Exception {
    long wait = s.timeout().toMillis();
    for (int w = 0; w < s.warmup(); w++) {
      barrier.meet(wait);
      finish(member.start(rank == 0, 1 - rank, plan, mode, ncclOnly), wait);
    }
    for (int r = 0; r < s.reps(); r++) {
      barrier.meet(wait);
      long t0 = System.nanoTime();
      KvTransport.Transfer t = member.start(rank == 0, 1 - rank, plan, mode, ncclOnly);
      if (rank == 0) host[r][0] = (System.nanoTime() - t0) / 1e3;
      ms[rank][r][slot] = finish(t, wait);
    }
    barrier.meet(wait);
    double[] best = new double[s.reps()];
    double[] send = new double[s.reps()];
    double[] receive = new double[s.reps()];
    double[] hostUs = new double[s.reps()];
    for (int r = 0; r < s.reps(); r++) {
      send[r] = ms[0][r][slot];
      receive[r] = ms[1][r][slot];
      best[r] = Math.min(send[r], receive[r]);
      hostUs[r] = host[r][0];
    }
    barrier.meet(wait); // nobody overwrites ms before both read it
    return new Timing(median(best), median(send), median(receive), median(hostUs), true, null);
  }

  /**
   * Where the two sides meet between steps. A side that fails breaks it off for good: the other
   * side stops at once if it is waiting, or at its next meeting, instead of waiting out the timeout.
   */
  private static final class Meeting {
    private final CyclicBarrier barrier = new CyclicBarrier(2);
    private volatile boolean off;

    void meet(long waitMillis) throws Exception {
      if (off) throw new java.util.concurrent.BrokenBarrierException();
      barrier.await(waitMillis, TimeUnit.MILLISECONDS);
    }

    void breakOff() {
      off = true;
      barrier.reset();
    }
  }

  /** Polls until the transfer is over; its side's ms, or throws with its failure. */
  private static double finish(KvTransport.Transfer t, long waitMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis + CudaKvGroupMember.DRAIN_MILLIS);
    while (!t.poll()) {
      if (System.nanoTime() - deadline > 0) throw new IllegalStateException("a transfer did not end");
      Thread.onSpinWait();
    }
    if (t.failure() != null) throw new IllegalStateException(t.failure());
    return t.millis();
  }

  /** {@code pages} distinct blocks of {@code numBlocks}, shuffled. */
  static int[] table(int pages, int numBlocks, long seed) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < numBlocks; i++) all.add(i);
    java.util.Collections.shuffle(all, new Random(seed));
    return all.subList(0, pages).stream().mapToInt(Integer::intValue).toArray();
  }

  /** A hash of the table's pages, every layer, K then V, read with plain copies. */
  private static long digest(CudaContext ctx, KvPool kv, int[] table) {
    int pageElems = kv.pageElems();
    long pageBytes = 2L * pageElems;
    short[] page = new short[pageElems];
    long h = 0xcbf29ce484222325L;
    for (int l = 0; l < kv.layers(); l++) {
      for (long base : new long[] {kv.keys(l), kv.values(l)}) {
        for (int b : table) {
          long offset = base - kv.buffer().address() + b * pageBytes;
          ctx.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(page), kv.buffer().pointer().withByteOffset(offset),
              pageBytes), "cuMemcpyDtoH(KV page)");
          for (short v : page) h = (h ^ (v & 0xffff)) * 0x100000001b3L;
        }
      }
    }
    return h;
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return EventTimer.median(v);
  }

  private static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.replaceAll("\\s*\\R\\s*", " ");
  }
}
