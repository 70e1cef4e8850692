package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.kv.KvTransferKind;
import io.decodefleet.coordinator.kv.KvTransferRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code --layout} and {@code --kv-transfer}: what is accepted, and one line with exit 2 for the rest. */
class LayoutOptionsTest {

  private record Result(int code, String err) {}

  /** Runs the CLI in this JVM with stderr captured (every case here stops before a cluster starts). */
  private static Result run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = CoordinatorCli.run(args);
      return new Result(code, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--layout disagg=1                                  | --layout must be dp, tp=K (K GPUs per replica, e.g. tp=2),"
          + " ep=K (a mixture of experts' experts over K devices per replica) or disagg=P:D",
      "--layout tp=1                                      | --layout tp=K needs K in 2..64, got 1",
      "--layout tp=3                                      | --layout tp=3 needs world sizes that are multiples of 3"
          + " (GPUs per replica), got 8",
      "--layout tp=2 --world-sizes 2,3                    | --layout tp=2 needs world sizes that are multiples of 2"
          + " (GPUs per replica), got 3",
      "--layout disagg=0:1 --world-size 1                 | disagg=P:D needs P >= 1 and D >= 1, got 0:1",
      "--layout disagg=1:1                                | --layout disagg=1:1 needs --world-size 2 (P + D agents), got 8",
      "--layout disagg=2:1 --world-sizes 1,3              | --layout disagg=2:1 needs --world-size 3 (P + D agents), got "
          + "--world-sizes [1, 3]",
      "--kv-transfer graph                                | --kv-transfer applies to --layout disagg=P:D only",
      "--layout disagg=1:1 --world-size 2 --kv-transfer x | --kv-transfer must be eager or graph, got 'x'",
  })
  void badLayoutGetsOneLineAndExitCode2(String args, String expected) {
    Result r = run(args.strip().split("\\s+"));

    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "exactly one line on stderr, got: " + r.err());
    assertTrue(lines.get(0).startsWith("coordinator: "), lines.get(0));
    assertTrue(lines.get(0).contains(expected), lines.get(0));
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void disaggregatedLayoutOnCpuAgentsIsAUsageError() {
    Result r = run("--layout", "disagg=1:1", "--world-size", "2", "--backend", "cpu", "--num-requests", "2");

    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(List.of("coordinator: --layout disagg=1:1 needs CUDA agents (the KV moves over NCCL), but the "
        + "embedded agents would run on the CPU (--backend cpu)"), lines);
  }

  @Test
  void withoutGpusTheDefaultBackendIsRefusedTooNotSilentlyRunOnCpu() {
    if (CudaDevices.discover().hasDevices()) return; // this machine would run it on CUDA
    Result r = run("--layout", "disagg=1:1", "--world-size", "2", "--num-requests", "2");

    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("needs CUDA agents"), r.err());
  }

  @Test
  void layoutsParseWithTheirTransferMode() {
    CoordinatorCli cli = new CoordinatorCli();
    new CommandLine(cli).parseArgs("--layout", "disagg=3:2", "--world-size", "5", "--kv-transfer", "graph",
        "--num-requests", "1");
    assertEquals(new ParallelLayout.Disaggregated(3, 2, KvTransferMode.GRAPH), cli.session().layout());
    CoordinatorCli plain = new CoordinatorCli();
    new CommandLine(plain).parseArgs("--num-requests", "1");
    assertInstanceOf(ParallelLayout.DataParallel.class, plain.session().layout());
    assertEquals("dp", plain.session().layout().label());
    CoordinatorCli tp = new CoordinatorCli();
    new CommandLine(tp).parseArgs("--layout", "tp=2", "--world-sizes", "2,4", "--num-requests", "1");
    assertEquals(new ParallelLayout.TensorParallel(2), tp.session().layout());
    assertEquals(2, tp.session().layout().tensorParallel());
  }

  @Test
  void consoleLineSummarisesTheTransfers() {
    var kv = new KvTransferHistory("disagg=1:1", "eager", "ready", 2, List.of(
        new KvTransferRecord(0, 1, "agent-0", "agent-1", 64L << 20, 0.3, 0.2, 4, false, KvTransferKind.HANDOFF),
        new KvTransferRecord(1, 2, "agent-0", "agent-1", 64L << 20, 0.2, 0.5, 6, false, KvTransferKind.HANDOFF)))
        .summary(0);
    String line = BenchmarkSession.describeTransfers(kv);
    assertEquals("KV transfers (disagg=1:1, eager): 2, mean 0.200 ms (p50 0.200, p99 0.200), 335.5 GB/s, 64.0 MiB"
        + " each, hand-off mean 5.00 ms (p99 5.98)", line);
  }
}
