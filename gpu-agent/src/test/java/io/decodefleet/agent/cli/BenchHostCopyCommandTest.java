package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** gpu-agent bench host-copy: bad arguments exit 2 before any device is touched; no GPU exits 3; one line each. */
class BenchHostCopyCommandTest {

  private static String[] run(String... args) {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchHostCopyCommand::new)).execute(args);
    return new String[] {Integer.toString(rc), buf.text()};
  }

  @Test
  void badSizesAndRepsAreNamed() {
    String[] big = run("--sizes", "4K,2G");
    assertEquals("2", big[0]);
    assertEquals("gpu-agent bench host-copy: --sizes: 2G is above the 1G limit\n", big[1]);
    String[] reps = run("--reps", "0");
    assertEquals("2", reps[0]);
    assertEquals("gpu-agent bench host-copy: --reps must be >= 1, got 0\n", reps[1]);
    String[] text = run("--sizes", "lots");
    assertEquals("2", text[0]);
    assertTrue(text[1].startsWith("gpu-agent bench host-copy: ") && text[1].contains("lots"), text[1]);
  }

  @Test
  void withoutAGpuItSaysSoInOneLineAndExits3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    String[] r = run("--sizes", "4K");
    assertEquals("3", r[0]);
    assertEquals(1, r[1].lines().count(), r[1]);
    assertTrue(r[1].startsWith("gpu-agent bench host-copy: no CUDA "), r[1]);
  }
}
