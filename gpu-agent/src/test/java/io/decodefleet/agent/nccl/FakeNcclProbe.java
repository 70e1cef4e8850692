package io.decodefleet.agent.nccl;

import java.time.Duration;

/**
 * Run by {@link FakeNcclTest} in a JVM of its own, with {@code -Ddecodefleet.nccl.library}
 * naming the fake NCCL: drives every wrapper once and prints {@code key=value} lines for the test
 * to check (the fake prints what it received on stderr).
 */
final class FakeNcclProbe {

  private FakeNcclProbe() {}

  public static void main(String[] args) {
    System.out.println("cause=" + Nccl.unavailabilityCause());
    System.out.println("available=" + Nccl.isAvailable());
    System.out.println("version=" + Nccl.versionText(Nccl.version()));
    System.out.println("nonblocking=" + Nccl.nonBlockingComms());
    byte[] id = Nccl.uniqueId();
    System.out.println("id=" + id.length + ":" + id[0] + ":" + id[127]);
    long comm = NcclCommunicator.commInitRank(2, id, 1, 1, Duration.ofSeconds(5));
    System.out.println("comm=" + (comm != 0));
    Nccl.allReduce(0x1000, 0x2000, 1024, Nccl.DataType.BFLOAT16, 0x5, comm);
    Nccl.allReduce(0x1000, 0x1000, 17, Nccl.DataType.FLOAT32, 0x5, comm);
    System.out.println("allreduce=ok");
    report("refused", () -> Nccl.allReduce(0x1000, 0x2000, 13, Nccl.DataType.FLOAT32, 0x5, comm));
    Nccl.group(() -> {
      Nccl.send(0x3000, 2048, Nccl.DataType.BFLOAT16, 0, 0x6, comm);
      Nccl.recv(0x4000, 512, Nccl.DataType.FLOAT32, 0, 0x6, comm);
    }, comm);
    System.out.println("p2p=ok");
    NcclCommunicator.checkAsyncError(comm);
    NcclCommunicator.commDestroy(comm);
    System.out.println("destroyed=ok");
    report("afterDestroy", () -> Nccl.allReduce(0x1000, 0x2000, 8, Nccl.DataType.FLOAT32, 0, comm));
    report("missingRank", () -> NcclCommunicator.commInitRank(3, id, 0, 0, Duration.ofMillis(300)));
    report("remoteError", () -> NcclCommunicator.commInitRank(4, id, 2, 2, Duration.ofSeconds(5)));
    report("wrongDevice", () -> NcclCommunicator.commInitRank(2, id, 0, 7, Duration.ofSeconds(5)));
    long other = NcclCommunicator.commInitRank(2, id, 0, 0);
    System.out.println("abort=" + NcclCommunicator.commAbort(other) + "," + NcclCommunicator.commAbort(other));
    // Last: a group whose call fails and whose end fails too (a zero communicator) keeps the call's error.
    try {
      Nccl.group(() -> {
        throw new IllegalStateException("the routing send failed");
      }, 0L);
      System.out.println("groupFailure=no exception");
    } catch (RuntimeException e) {
      System.out.println("groupFailure=" + e.getClass().getSimpleName() + ": " + e.getMessage() + "; suppressed "
          + (e.getSuppressed().length == 1 ? e.getSuppressed()[0].getMessage() : e.getSuppressed().length));
    }
  }

  private static void report(String key, Runnable call) {
    try {
      call.run();
      System.out.println(key + "=no exception");
    } catch (RuntimeException e) {
      System.out.println(key + "=" + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }
}
