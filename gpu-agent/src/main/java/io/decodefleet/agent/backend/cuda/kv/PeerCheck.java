package io.decodefleet.agent.backend.cuda.kv;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.nccl.Nccl;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A KV-transfer member's first exchange with each peer, when it joins: one grouped send and
 * receive of {@code bytes} per peer, both ways, on the member's stream, checked value by value.
 * It connects NCCL's point-to-point channels before any transfer is timed or captured in a graph,
 * and a wrong peer table or a broken link fails the load instead of the first hand-off.
 */
final class PeerCheck {

  private PeerCheck() {}

  /** Value {@code i} that rank {@code rank} sends: distinct per rank and element. */
  static int value(int rank, int i) {
    return rank * 1_000_003 + i * 7 + 1;
  }

  /** Throws, naming the peer and element, at the first wrong value or once {@code spec.timeout()} passed. */
  static void run(CudaContext ctx, CudaStream stream, long comm, KvGroupSpec spec, long bytes) {
    List<Integer> peers = spec.peers();
    if (peers.isEmpty()) return;
    int n = (int) Math.max(1, bytes / 4);
    int[] mine = new int[n];
    for (int i = 0; i < n; i++) mine[i] = value(spec.rank(), i);
    try (DeviceBuffer send = ctx.allocate(4L * n); // (n) int32 sent to every peer
        DeviceBuffer recv = ctx.allocate(4L * n * peers.size())) { // (peers, n) int32 received
      send.upload(mine);
      recv.fill32(0x7fc00000);
      ctx.synchronize("staging the KV-transfer group's first exchange"); // legacy-stream copies, non-blocking stream
      long s = NativeStream.address(stream);
      Nccl.group(() -> {
        for (int j = 0; j < peers.size(); j++) {
          Nccl.send(send.address(), n, Nccl.DataType.FLOAT32, peers.get(j), s, comm);
          Nccl.recv(recv.address(4L * n * j), n, Nccl.DataType.FLOAT32, peers.get(j), s, comm);
        }
      }, comm);
      long deadline = System.nanoTime() + spec.timeout().toNanos();
      while (!stream.isIdle()) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("the first exchange with ranks " + peers + " did not finish within "
              + spec.timeout().toMillis() / 1000.0 + " s: is every peer there?");
        }
        sleep();
      }
      int[] got = recv.downloadInts(n * peers.size());
      for (int j = 0; j < peers.size(); j++) {
        for (int i = 0; i < n; i++) {
          int expected = value(peers.get(j), i);
          if (got[j * n + i] != expected) {
            throw new IllegalStateException("the first exchange with rank " + peers.get(j) + " gave " + got[j * n + i]
                + " at element " + i + ", expected " + expected);
          }
        }
      }
    }
  }

  private static void sleep() {
    try {
      TimeUnit.MICROSECONDS.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the KV-transfer group's first exchange", e);
    }
  }
}
