package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** On a machine with no GPU, selftest and bench say so in one line and exit 3. */
class DeviceToolsWithoutGpuTest {

  @BeforeEach
  void noGpuHere() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
  }

  @Test
  void selftestPrintsOneLineAndExits3() {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(SelfCheckCommand::new))
        .execute();
    String out = buf.text();
    assertEquals(3, rc);
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.startsWith("gpu-agent selftest: no CUDA "), out);
  }

  @Test
  void benchKernelsPrintsOneLineAndExits3() {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchCommand.Kernels::new)).execute("--out", "unused.json");
    String out = buf.text();
    assertEquals(3, rc);
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.startsWith("gpu-agent bench kernels: no CUDA "), out);
  }

  @Test
  void theCliKnowsBothDeviceTools() {
    CommandLine cli = new CommandLine(new GpuAgentCli());
    assertTrue(cli.getSubcommands().containsKey("selftest"));
    assertTrue(cli.getSubcommands().get("bench").getSubcommands().containsKey("kernels"));
    assertEquals(3, GpuAgentCli.run("selftest"));
  }
}
