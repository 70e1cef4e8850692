package io.decodefleet.agent.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim and {@link Nccl} against a fake libnccl.so.2 (src/test/native/fake_nccl.c, built here
 * with gcc), in a JVM of its own since the library loads once per JVM: argument order and values
 * as NCCL receives them, the non-blocking config's layout, polling, timeouts and aborts, and how
 * statuses become exceptions. Skipped where gcc or the built shim is missing.
 */
class FakeNcclTest {

  @TempDir
  static Path dir;

  private static Map<String, String> probe;
  private static List<String> received;

  @BeforeAll
  static void runProbeAgainstFakeNccl() throws IOException, InterruptedException {
    assumeTrue(NativeShim.isLinuxX8664(), "the shim is built for linux-x86_64 only");
    assumeTrue(Files.isRegularFile(Path.of("target/classes").resolve(NativeShim.RESOURCE.substring(1))),
        "the build made no shim (no gcc)");
    Path fake = dir.resolve("libnccl.so.2");
    int gcc = run(List.of("gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o",
        fake.toString(), "src/test/native/fake_nccl.c"), dir.resolve("gcc.log"));
    assumeTrue(gcc == 0, () -> "gcc failed: " + read(dir.resolve("gcc.log")));
    Path out = dir.resolve("probe.out");
    Path err = dir.resolve("probe.err");
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", "target/classes" + java.io.File.pathSeparator + "target/test-classes",
        "-Ddecodefleet.nccl.library=" + fake.toAbsolutePath(),
        FakeNcclProbe.class.getName());
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe finished");
    assertEquals(0, p.exitValue(), () -> read(out) + read(err));
    probe = new LinkedHashMap<>();
    for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      probe.put(line.substring(0, eq), line.substring(eq + 1));
    }
    received = Files.readAllLines(err, StandardCharsets.UTF_8);
  }

  @Test
  void loadsTheNamedLibraryAndReadsItsVersion() {
    assertEquals("", probe.get("cause"));
    assertEquals("true", probe.get("available"));
    assertEquals("2.27.3", probe.get("version"));
    assertEquals("true", probe.get("nonblocking"));
    assertEquals("128:0:127", probe.get("id"), "the 128-byte id as NCCL wrote it");
  }

  @Test
  void commInitPassesTheIdByValueAndANonBlockingConfigNcclCanRead() {
    assertTrue(received.contains("fake init nranks=2 rank=1 id0=0 id127=127 size=40"
        + " magic=0xcafebeef version=21700 blocking=0 cga=-2147483648 minctas=-2147483648"
        + " maxctas=-2147483648 net=null"), String.join("\n", received));
  }

  @Test
  void operationsReachNcclWithTheirArgumentsInOrder() {
    assertTrue(received.contains(
        "fake allreduce send=0x1000 recv=0x2000 count=1024 dtype=9 op=0 rank=1 stream=0x5"));
    assertTrue(received.contains(
        "fake allreduce send=0x1000 recv=0x1000 count=17 dtype=7 op=0 rank=1 stream=0x5"));
    assertTrue(received.contains(
        "fake send buf=0x3000 count=2048 dtype=9 peer=0 rank=1 stream=0x6"));
    assertTrue(received.contains(
        "fake recv buf=0x4000 count=512 dtype=7 peer=0 rank=1 stream=0x6"));
    assertEquals("ok", probe.get("allreduce"), "an in-progress answer was waited out");
    assertEquals("ok", probe.get("p2p"));
  }

  @Test
  void aFailedCallNamesTheCallRankGpuAndNcclsMessages() {
    assertEquals("NcclException: ncclAllReduce(fp32 x 13) failed on rank 1 of 2 (GPU 1): invalid"
        + " argument (run with NCCL_DEBUG=WARN for details); NCCL last error: fake: count 13 is"
        + " refused", probe.get("refused"));
  }

  @Test
  void aGroupWhoseCallFailsThrowsThatCallsErrorWithTheGroupEndsAttached() {
    assertEquals("ok", probe.get("p2p"));
    assertEquals("IllegalStateException: the routing send failed; suppressed groupEnd: comm must not be 0",
        probe.get("groupFailure"));
  }

  @Test
  void destroyFinalizesThenFreesAndTheHandleIsDeadAfterwards() {
    int finalize = received.indexOf("fake finalize rank=1");
    int destroy = received.indexOf("fake destroy rank=1");
    assertTrue(finalize >= 0 && destroy > finalize, String.join("\n", received));
    assertTrue(probe.get("afterDestroy").startsWith(
        "IllegalArgumentException: allReduce: comm 0x"), probe.get("afterDestroy"));
    assertTrue(probe.get("afterDestroy").endsWith("is not a live communicator (never created,"
        + " destroyed or aborted)"));
  }

  @Test
  void aRankThatNeverArrivesTimesOutAndAbortsInsteadOfHanging() {
    assertEquals("NcclException: ncclCommInitRank on rank 0 of 3 (GPU 0) did not finish within"
        + " 0.3 s: is every rank there? (communicator aborted)", probe.get("missingRank"));
    assertTrue(received.contains("fake abort nranks=3 rank=0 polled=yes"));
  }

  @Test
  void anAsynchronousInitErrorAbortsAndNamesNcclsError() {
    assertTrue(probe.get("remoteError").startsWith("NcclException: ncclCommInitRank failed on rank"
        + " 2 of 4 (GPU 2): remote process exited or there was a network error"),
        probe.get("remoteError"));
    assertTrue(probe.get("remoteError").endsWith("(communicator aborted)"));
    assertTrue(received.contains("fake abort nranks=4 rank=2 polled=yes"));
  }

  @Test
  void aCommunicatorOnAnotherGpuThanTheCallerNamedIsRefused() {
    assertEquals("IllegalStateException: commInitRank: rank 0 of 2 (GPU 7) was created on GPU 0:"
        + " make GPU 7's context current on this thread first", probe.get("wrongDevice"));
  }

  @Test
  void abortFreesOnceAndThenReportsTheHandleGone() {
    assertEquals("true,false", probe.get("abort"));
    assertEquals(4, received.stream().filter(l -> l.startsWith("fake abort ")).count(),
        "one abort each for the missing rank, the remote error, the wrong device and the explicit"
            + " abort; none for the second abort: " + String.join("\n", received));
  }

  /** Exit status of {@code command}, or -1 when it cannot start (no gcc) or runs too long. */
  private static int run(List<String> command, Path log) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(" + file + " unreadable: " + e.getMessage() + ")";
    }
  }
}
