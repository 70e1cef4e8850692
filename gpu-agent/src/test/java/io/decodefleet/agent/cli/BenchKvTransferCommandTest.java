package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code gpu-agent bench kv-transfer}'s arguments and its answer on a machine without GPUs. */
class BenchKvTransferCommandTest {

  private static String[] run(String... args) {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchKvTransferCommand::new))
        .execute(args);
    return new String[] {String.valueOf(rc), buf.text().strip()};
  }

  @Test
  void isASubcommandOfBench() {
    CommandLine bench = new CommandLine(new GpuAgentCli()).getSubcommands().get("bench");
    assertTrue(bench.getSubcommands().containsKey("kv-transfer"));
    assertTrue(bench.getSubcommands().containsKey("nccl"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
      "--reps      | 0        | gpu-agent bench kv-transfer: --reps must be >= 1 but is 0",
      "--contexts  | 512,0    | gpu-agent bench kv-transfer: --contexts: give token counts >= 1, got [512, 0]",
      "--gpus      | 1,1      | gpu-agent bench kv-transfer: --gpus must name two different GPUs, sender first",
      "--model     | gpt-9    | gpu-agent bench kv-transfer: unknown model 'gpt-9'",
      "--block-size| 0        | gpu-agent bench kv-transfer: --block-size must be in 1..1024",
  })
  void badArgumentsGetOneLineAndExit2(String option, String value, String expected) {
    String[] r = run(option.strip(), value.strip());
    assertEquals("2", r[0], r[1]);
    assertEquals(1, r[1].lines().count(), r[1]);
    assertTrue(r[1].startsWith(expected), r[1]);
  }

  @Test
  void aCalibrationToWriteIntoThatIsNotOneIsRefusedBeforeAnyDevice(@TempDir Path dir)
      throws Exception {
    Path other = dir.resolve("other.json");
    Files.writeString(other, "[1, 2]");
    String[] r = run("--calibration", other.toString());
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].startsWith("gpu-agent bench kv-transfer: --calibration ") && r[1].contains("is not a calibration"),
        r[1]);
  }

  @Test
  void withoutAGpuItSaysSoInOneLineAndExits3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    String[] r = run("--contexts", "512", "--out", "unused.json");
    assertEquals("3", r[0], r[1]);
    assertEquals(1, r[1].lines().count(), r[1]);
    assertTrue(r[1].startsWith("gpu-agent bench kv-transfer: no CUDA "), r[1]);
  }

  @Test
  void tableShowsFailedVariantsWithTheirReason() {
    var ok = new io.decodefleet.agent.tools.bench.KvTransferBench.Timing(0.5, 0.6, 0.5, 40, true, null);
    var failed = new io.decodefleet.agent.tools.bench.KvTransferBench.Timing(Double.NaN, Double.NaN, Double.NaN,
        Double.NaN, false, "graph: cuStreamEndCapture failed on GPU 1: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED");
    String table = BenchKvTransferCommand.table(java.util.List.of(
        new io.decodefleet.agent.tools.bench.KvTransferBench.Row(512, 32, 64L << 20, ok, failed, ok)));
    assertTrue(table.contains("134.2"), "64 MiB in 0.5 ms is 134.2 GB/s: " + table);
    assertTrue(table.contains("failed"), table);
    assertTrue(table.contains("512 tokens: graph: cuStreamEndCapture failed"), table);
  }
}
