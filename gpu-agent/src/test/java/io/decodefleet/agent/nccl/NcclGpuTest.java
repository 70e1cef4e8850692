package io.decodefleet.agent.nccl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.nccl.Nccl.DataType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * NCCL between GPUs 0 and 1, one thread per rank as the agents run it. Skipped (an assumption,
 * not a failure) without NCCL or without two GPUs.
 */
@Tag("gpu")
class NcclGpuTest {

  /** Odd, so no size is a multiple of a vector width or a chunk. */
  private static final int N = 4099;

  private List<GpuInfo> gpus;

  @BeforeEach
  void needsNcclAndTwoGpus() {
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.gpus().size() >= 2, () -> "needs 2 GPUs: " + d.gpus().size() + " " + d.reason());
    gpus = d.gpus().subList(0, 2);
  }

  interface RankBody {
    void run(int rank, GpuInfo gpu, CudaContext ctx, long stream, long comm) throws Exception;
  }

  @Test
  void allReduceSumsBf16AndFp32AcrossTwoGpus() throws Exception {
    onEachRank((rank, gpu, ctx, stream, comm) -> {
      float[] x = new float[N];
      short[] xb = new short[N];
      float[] expected = new float[N];
      for (int i = 0; i < N; i++) {
        x[i] = (rank + 1) * (i % 7 + 1); // small integers: exact in bf16, sums too
        xb[i] = (short) (Float.floatToIntBits(x[i]) >>> 16);
        expected[i] = 3 * (i % 7 + 1);
      }
      try (DeviceBuffer in = ctx.allocate(4L * N); DeviceBuffer out = ctx.allocate(4L * N);
          DeviceBuffer inB = ctx.allocate(2L * N)) {
        in.upload(x);
        out.fill32(0x7fc00000); // NaN: an element NCCL skipped stays visible
        inB.upload(xb);
        Nccl.allReduce(in.address(), out.address(), N, DataType.FLOAT32, stream, comm);
        Nccl.allReduce(inB.address(), inB.address(), N, DataType.BFLOAT16, stream, comm);
        ctx.synchronize("all-reduce");
        assertArrayEquals(expected, out.downloadFloats(N), "fp32 sum on rank " + rank);
        short[] sum = inB.downloadShorts(N);
        for (int i = 0; i < N; i++) {
          assertEquals(expected[i], Float.intBitsToFloat(sum[i] << 16), "bf16 element " + i);
        }
      }
    });
  }

  @Test
  void sendReachesTheReceiverAndAGroupExchangesBothWays() throws Exception {
    onEachRank((rank, gpu, ctx, stream, comm) -> {
      float[] mine = new float[N];
      for (int i = 0; i < N; i++) {
        mine[i] = rank * 100_000 + i + 0.25f;
      }
      float[] theirs = new float[N];
      for (int i = 0; i < N; i++) {
        theirs[i] = (1 - rank) * 100_000 + i + 0.25f;
      }
      try (DeviceBuffer send = ctx.allocate(4L * N); DeviceBuffer recv = ctx.allocate(4L * N)) {
        send.upload(mine);
        recv.fill32(0x7fc00000);
        if (rank == 0) {
          Nccl.send(send.address(), N, DataType.FLOAT32, 1, stream, comm);
        } else {
          Nccl.recv(recv.address(), N, DataType.FLOAT32, 0, stream, comm);
        }
        ctx.synchronize("send/recv");
        float[] received = recv.downloadFloats(N); // checked after the exchange: no rank leaves early
        recv.fill32(0x7fc00000);
        Nccl.groupStart();
        Nccl.send(send.address(), N, DataType.FLOAT32, 1 - rank, stream, comm);
        Nccl.recv(recv.address(), N, DataType.FLOAT32, 1 - rank, stream, comm);
        Nccl.groupEnd(comm);
        ctx.synchronize("exchange");
        assertArrayEquals(theirs, recv.downloadFloats(N), "exchange on rank " + rank);
        if (rank == 1) {
          assertArrayEquals(theirs, received, "GPU 0 -> GPU 1");
        }
      }
    });
  }

  @Test
  void aRankWhosePeerNeverComesTimesOutInsteadOfHanging() {
    GpuInfo gpu = gpus.get(0);
    long start = System.nanoTime();
    try (CudaContext ignored = CudaContext.open(gpu)) {
      NcclException e = assertThrows(NcclException.class, () -> NcclCommunicator.commInitRank(
          2, Nccl.uniqueId(), 0, gpu.index(), Duration.ofSeconds(3)));
      assertTrue(e.getMessage().contains("did not finish within 3.0 s"), e.getMessage());
      assertTrue(e.getMessage().endsWith("(communicator aborted)"), e.getMessage());
    }
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "returned promptly");
  }

  /** Runs {@code body} on two threads, rank r on GPU r with its context current and a comm. */
  private void onEachRank(RankBody body) throws Exception {
    byte[] id = Nccl.uniqueId();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> ranks = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        int rank = r;
        GpuInfo gpu = gpus.get(r);
        ranks.add(pool.submit(() -> {
          try (CudaContext ctx = CudaContext.open(gpu); CudaStream stream = ctx.newStream()) {
            long comm = NcclCommunicator.commInitRank(2, id, rank, gpu.index(), Duration.ofSeconds(60));
            boolean ok = false;
            try {
              body.run(rank, gpu, ctx, NativeStream.address(stream), comm);
              ok = true;
            } finally {
              if (ok) {
                NcclCommunicator.commDestroy(comm);
              } else {
                NcclCommunicator.commAbort(comm);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : ranks) {
        try {
          f.get(120, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception ex) {
            throw ex;
          }
          throw (Error) e.getCause();
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
