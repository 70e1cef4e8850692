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

/** {@code gpu-agent bench tp}'s arguments and its answer on a machine without GPUs. */
class BenchTpCommandTest {

  private static String[] run(String... args) {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchTpCommand::new)).execute(args);
    return new String[] {String.valueOf(rc), buf.text().strip()};
  }

  @Test
  void isASubcommandOfBench() {
    CommandLine bench = new CommandLine(new GpuAgentCli()).getSubcommands().get("bench");
    assertTrue(bench.getSubcommands().containsKey("tp"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
      "--tensor-parallel | 1     | gpu-agent bench tp: --tensor-parallel must be >= 2, got 1",
      "--tensor-parallel | 4     | gpu-agent bench tp: model tiny cannot be split 4 ways: num_key_value_heads 2 is"
          + " not a multiple of 4",
      "--model           | gpt-9 | gpu-agent bench tp: unknown model 'gpt-9'",
      "--decode-paths    | fast  | gpu-agent bench tp: ",
      "--reps            | 0     | gpu-agent bench tp: --context, --reps, --parity-steps and --batches must be >= 1",
  })
  void badArgumentsGetOneLineAndExit2(String option, String value, String expected) {
    String[] r = run(option.strip(), value.strip());
    assertEquals("2", r[0], r[1]);
    assertEquals(1, r[1].lines().count(), r[1]);
    assertTrue(r[1].startsWith(expected), r[1]);
  }

  /** With --expert-parallel the models must be mixtures whose experts split K ways. */
  @Test
  void expertParallelRefusesADenseModelOrAnUnevenSplitInOneLine() {
    String[] dense = run("--expert-parallel", "2", "--parity-models", "tiny");
    assertEquals("2", dense[0], dense[1]);
    assertEquals("gpu-agent bench tp: model tiny has no experts: expert parallelism needs a mixture of experts",
        dense[1]);
    String[] uneven = run("--expert-parallel", "3");
    assertEquals("2", uneven[0], uneven[1]);
    assertEquals("gpu-agent bench tp: model tiny-moe cannot be split 3 ways: num_experts 8 is not a multiple of 3",
        uneven[1]);
    String[] both = run("--expert-parallel", "2", "--tensor-parallel", "2");
    assertEquals("2", both[0], both[1]);
    assertEquals("gpu-agent bench tp: --tensor-parallel and --expert-parallel together: choose one", both[1]);
    String[] one = run("--expert-parallel", "1");
    assertEquals("gpu-agent bench tp: --expert-parallel must be >= 2, got 1", one[1]);
  }

  /** --calibration is checked before any device: a tensor-parallel group, and a file that is a calibration. */
  @Test
  void theCalibrationToWriteIntoIsCheckedFirst(@TempDir Path dir)
      throws Exception {
    String[] missing = run("--calibration", dir.resolve("missing.json").toString());
    assertEquals("2", missing[0], missing[1]);
    assertTrue(missing[1].startsWith("gpu-agent bench tp: --calibration cannot read calibration "), missing[1]);
    Path other = dir.resolve("other.json");
    Files.writeString(other, "{}");
    String[] notOne = run("--calibration", other.toString());
    assertEquals("2", notOne[0], notOne[1]);
    assertTrue(notOne[1].contains("is not a calibration"), notOne[1]);
    String[] expert = run("--expert-parallel", "2", "--calibration", other.toString());
    assertEquals("2", expert[0], expert[1]);
    assertTrue(expert[1].startsWith("gpu-agent bench tp: --calibration takes a tensor-parallel group's scaling"),
        expert[1]);
  }

  @Test
  void expertParallelWithoutAGpuSaysSoInOneLineAndExits3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    String[] r = run("--expert-parallel", "2", "--reps", "1");
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].startsWith("gpu-agent bench tp: no CUDA "), r[1]);
  }

  @Test
  void withoutAGpuItSaysSoInOneLineAndExits3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    String[] r = run("--reps", "1");
    assertEquals("3", r[0], r[1]);
    assertEquals(1, r[1].lines().count(), r[1]);
    assertTrue(r[1].startsWith("gpu-agent bench tp: no CUDA "), r[1]);
  }
}
