package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.nccl.Nccl.DataType;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.nccl.NcclCommunicator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;

/**
 * NCCL bandwidth between local GPUs, in one process: one thread per rank, each with its GPU's
 * context current, one communicator over the chosen GPUs. Every rank walks the same list of
 * points; a barrier separates points, and its action publishes the point just measured. Before
 * timing, every rank checks the values of an all-reduce and a send/recv ({@link NcclParity}).
 *
 * <p>Timing: per point and rank, {@code warmup} untimed repetitions, then {@code reps}
 * repetitions of {@code iters} back-to-back operations between two CUDA events on the rank's
 * stream; the rank's time is the median over repetitions of event time / iters, and the point's
 * time is the slowest taking-part rank's.
 */
public final class NcclBench {

  /** 4 KiB ... 1 GiB, doubling: includes the targets' 4 MiB and 256 MiB. */
  public static final List<Long> DEFAULT_SIZES = defaultSizes();
  /** Bytes per repetition that {@link #itersFor} aims at: enough to hide event overhead. */
  static final long BYTES_PER_REP = 256L << 20;
  static final int MAX_ITERS = 20;

  /**
   * How to measure.
   *
   * @param timeout limit for communicator set-up and for each point's barrier; a rank that
   *     outlasts it is taken for hung and the run is aborted
   */
  /**
   * @param maxIters the most back-to-back operations per repetition (small messages get this many)
   */
  public record Settings(List<Long> sizes, int warmup, int reps, Duration timeout, int maxIters) {

    public Settings(List<Long> sizes, int warmup, int reps, Duration timeout) {
      this(sizes, warmup, reps, timeout, MAX_ITERS);
    }

    public Settings {
      if (maxIters < 1) {
        throw new IllegalArgumentException("--max-iters must be >= 1 but is " + maxIters);
      }
      sizes = List.copyOf(sizes);
      if (sizes.isEmpty()) {
        throw new IllegalArgumentException("--sizes: give at least one size");
      }
      if (warmup < 0) {
        throw new IllegalArgumentException("--warmup must be >= 0 but is " + warmup);
      }
      if (reps < 1) {
        throw new IllegalArgumentException("--reps must be >= 1 but is " + reps);
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("--timeout must be positive but is " + timeout);
      }
    }
  }

  /**
   * One point every rank walks past.
   *
   * @param ranks taking part: {sender, receiver} for send/recv, every rank for all-reduce
   */
  record Step(String op, DataType dtype, List<Integer> ranks, long bytes, int iters) {

    boolean involves(int rank) {
      return ranks.contains(rank);
    }
  }

  private NcclBench() {}

  /** Operations per repetition: 256 MiB worth, at least 1, at most 20. */
  static int itersFor(long bytes) {
    return itersFor(bytes, MAX_ITERS);
  }

  static int itersFor(long bytes, int maxIters) {
    return (int) Math.max(1, Math.min(maxIters, BYTES_PER_REP / bytes));
  }

  /**
   * The points, in walking order: send/recv (bf16 elements) for every pair i &lt; j of ranks
   * (i sends), then all-reduce over all ranks in bf16, then in fp32; each over every size.
   */
  static List<Step> plan(int ranks, List<Long> sizes) {
    return plan(ranks, sizes, MAX_ITERS);
  }

  static List<Step> plan(int ranks, List<Long> sizes, int maxIters) {
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < ranks; i++) {
      for (int j = i + 1; j < ranks; j++) {
        for (long bytes : sizes) {
          steps.add(new Step(NcclBenchPoint.SEND_RECV, DataType.BFLOAT16, List.of(i, j), bytes,
              itersFor(bytes, maxIters)));
        }
      }
    }
    List<Integer> all = new ArrayList<>();
    for (int r = 0; r < ranks; r++) {
      all.add(r);
    }
    for (DataType dtype : new DataType[] {DataType.BFLOAT16, DataType.FLOAT32}) {
      for (long bytes : sizes) {
        steps.add(new Step(NcclBenchPoint.ALL_REDUCE, dtype, all, bytes, itersFor(bytes, maxIters)));
      }
    }
    return steps;
  }

  /**
   * Measures every point over {@code gpus} (rank r on {@code gpus.get(r)}); {@code onPoint} sees
   * each point as soon as every rank has measured it.
   */
  public static List<NcclBenchPoint> run(
      List<GpuInfo> gpus, Settings settings, Consumer<NcclBenchPoint> onPoint) {
    if (gpus.size() < 2) {
      throw new IllegalArgumentException(
          "the NCCL bench needs at least 2 GPUs, got " + gpus.size());
    }
    int n = gpus.size();
    List<Step> steps = plan(n, settings.sizes(), settings.maxIters());
    long maxBytes = Collections.max(settings.sizes());
    double[][] rankUs = new double[steps.size()][n];
    List<NcclBenchPoint> points = Collections.synchronizedList(new ArrayList<>());
    int[] trips = {0};
    CyclicBarrier barrier = new CyclicBarrier(n, () -> {
      int done = trips[0]++ - 1; // the first trip only says every rank is set up
      if (done >= 0) {
        NcclBenchPoint p = point(steps.get(done), rankUs[done], gpus);
        points.add(p);
        onPoint.accept(p);
      }
    });
    byte[] id = Nccl.uniqueId();
    AtomicLongArray comms = new AtomicLongArray(n);
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
      Thread t = new Thread(r, "nccl-bench-rank-" + threads.getAndIncrement());
      t.setDaemon(true); // a rank stuck in the driver must not keep the JVM alive
      return t;
    });
    try {
      List<Future<?>> ranks = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int rank = r;
        ranks.add(pool.submit(() -> {
          runRank(rank, gpus.get(rank), id, n, steps, maxBytes, settings, barrier, rankUs, comms);
          return null;
        }));
      }
      RankWatch.await(ranks, barrier, comms, gpus);
    } finally {
      pool.shutdownNow();
    }
    return List.copyOf(points);
  }

  private static void runRank(int rank, GpuInfo gpu, byte[] id, int n, List<Step> steps,
      long maxBytes, Settings settings, CyclicBarrier barrier, double[][] rankUs,
      AtomicLongArray comms) throws Exception {
    long timeoutMs = settings.timeout().toMillis();
    try (CudaContext ctx = CudaContext.open(gpu);
        CudaStream stream = ctx.newStream();
        DeviceBuffer a = ctx.allocate(maxBytes); // (maxBytes) sent, and all-reduced in place
        DeviceBuffer b = ctx.allocate(maxBytes)) { // (maxBytes) received
      a.fill32(0x3f803f80); // bf16 1.0 pairs: finite data; doubling in place stays finite or inf
      b.fill32(0);
      long comm = NcclCommunicator.commInitRank(n, id, rank, gpu.index(), settings.timeout());
      comms.set(rank, comm);
      boolean clean = false;
      try {
        long s = NativeStream.address(stream);
        NcclParity.check(ctx, s, comm, rank, n);
        barrier.await(timeoutMs, TimeUnit.MILLISECONDS);
        for (int i = 0; i < steps.size(); i++) {
          Step step = steps.get(i);
          if (step.involves(rank)) {
            Runnable ops = operations(step, rank, a.address(), b.address(), s, comm);
            double[] us = EventTimer.timeUs(stream, settings.warmup(), settings.reps(), ops);
            rankUs[i][rank] = EventTimer.median(us) / step.iters();
          }
          barrier.await(timeoutMs, TimeUnit.MILLISECONDS);
        }
        clean = true;
      } finally {
        if (clean) {
          NcclCommunicator.commDestroy(comm, settings.timeout());
        } else {
          try {
            NcclCommunicator.commAbort(comm); // false when the watch got there first
          } catch (RuntimeException e) {
            // The failure that brought us here is the one to report.
          }
        }
      }
    } catch (TimeoutException e) {
      throw new IllegalStateException("rank " + rank + " (GPU " + gpu.index()
          + ") waited more than " + settings.timeout().toSeconds() + " s for the other ranks", e);
    }
  }

  /** {@code step.iters()} operations of this rank, enqueued on stream {@code s}. */
  private static Runnable operations(Step step, int rank, long a, long b, long s, long comm) {
    long count = step.bytes() / step.dtype().bytes();
    int iters = step.iters();
    DataType dtype = step.dtype();
    if (NcclBenchPoint.ALL_REDUCE.equals(step.op())) {
      return () -> {
        for (int k = 0; k < iters; k++) {
          Nccl.allReduce(a, a, count, dtype, s, comm);
        }
      };
    }
    int sender = step.ranks().get(0);
    int receiver = step.ranks().get(1);
    if (rank == sender) {
      return () -> {
        for (int k = 0; k < iters; k++) {
          Nccl.send(a, count, dtype, receiver, s, comm);
        }
      };
    }
    return () -> {
      for (int k = 0; k < iters; k++) {
        Nccl.recv(b, count, dtype, sender, s, comm);
      }
    };
  }

  private static NcclBenchPoint point(Step step, double[] rankUs, List<GpuInfo> gpus) {
    List<Integer> ordinals = new ArrayList<>();
    List<Double> times = new ArrayList<>();
    double slowest = 0;
    for (int rank : step.ranks()) {
      ordinals.add(gpus.get(rank).index());
      times.add(rankUs[rank]);
      slowest = Math.max(slowest, rankUs[rank]);
    }
    return new NcclBenchPoint(step.op(), step.dtype(), ordinals, step.bytes(), step.iters(),
        slowest, times);
  }

  private static List<Long> defaultSizes() {
    List<Long> sizes = new ArrayList<>();
    for (long b = 4L << 10; b <= 1L << 30; b <<= 1) {
      sizes.add(b);
    }
    return List.copyOf(sizes);
  }
}
