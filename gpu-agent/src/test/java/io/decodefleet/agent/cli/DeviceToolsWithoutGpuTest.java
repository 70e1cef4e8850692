package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc = new CommandLine(new SelfCheckCommand(new PrintStream(buf, true, StandardCharsets.UTF_8)))
        .execute();
    String out = buf.toString(StandardCharsets.UTF_8);
    assertEquals(3, rc);
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.startsWith("gpu-agent selftest: no CUDA device: "), out);
  }

  @Test
  void benchKernelsPrintsOneLineAndExits3() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc = new CommandLine(new BenchCommand.Kernels(
        new PrintStream(buf, true, StandardCharsets.UTF_8))).execute("--out", "unused.json");
    String out = buf.toString(StandardCharsets.UTF_8);
    assertEquals(3, rc);
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.startsWith("gpu-agent bench kernels: no CUDA device: "), out);
  }

  @Test
  void theCliKnowsBothDeviceTools() {
    CommandLine cli = new CommandLine(new GpuAgentCli());
    assertTrue(cli.getSubcommands().containsKey("selftest"));
    assertTrue(cli.getSubcommands().get("bench").getSubcommands().containsKey("kernels"));
    assertEquals(3, GpuAgentCli.run("selftest"));
  }
}
