package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code gpu-agent bench nccl}'s arguments and its answer on a machine without GPUs. */
class BenchNcclCommandTest {

  @Test
  void isASiblingOfBenchKernels() {
    CommandLine bench = new CommandLine(new GpuAgentCli()).getSubcommands().get("bench");
    assertTrue(bench.getSubcommands().containsKey("nccl"));
    assertTrue(bench.getSubcommands().containsKey("kernels"));
  }

  @Test
  void aSizeThatIsNotWholeElementsIsABadArgument() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new GpuAgentCli());
    cli.setErr(new PrintWriter(err));
    int rc = cli.execute("bench", "nccl", "--sizes", "4K,6");
    assertEquals(2, rc);
    assertTrue(err.toString().contains("size '6' must be a multiple of 4 bytes"), err.toString());
  }

  @Test
  void zeroRepetitionsIsABadArgumentInOneLine() {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchNcclCommand::new))
        .execute("--reps", "0");
    assertEquals(2, rc);
    assertEquals("gpu-agent bench nccl: --reps must be >= 1 but is 0",
        buf.text().strip());
  }

  @Test
  void withoutAGpuItSaysSoInOneLineAndExits3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchNcclCommand::new))
        .execute("--out", "unused.json", "--sizes", "4K,4M");
    String out = buf.text();
    assertEquals(3, rc);
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.startsWith("gpu-agent bench nccl: no CUDA "), out);
  }
}
