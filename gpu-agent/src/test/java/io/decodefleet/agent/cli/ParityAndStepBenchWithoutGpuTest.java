package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** gpu-agent parity, bench step and bench roofline: bad arguments exit 2, no GPU exits 3, each in one line. */
class ParityAndStepBenchWithoutGpuTest {

  private record Run(int code, String out) {}

  private static Run run(Supplier<Callable<Integer>> command, String... args) {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(command)).execute(args);
    return new Run(rc, buf.text());
  }

  @Test
  void withoutAGpuBothSayNoCudaDeviceInOneLineAndExit3() {
    assumeFalse(CudaDevices.discover().hasDevices(), "this machine has a GPU");
    Run parity = run(ParityCommand::new, "--model", "tiny");
    assertEquals(3, parity.code());
    assertEquals(1, parity.out().lines().count(), parity.out());
    assertTrue(parity.out().startsWith("gpu-agent parity: no CUDA "), parity.out());
    Run step = run(BenchStepCommand::new, "--out", "unused.json");
    assertEquals(3, step.code());
    assertEquals(1, step.out().lines().count(), step.out());
    assertTrue(step.out().startsWith("gpu-agent bench step: no CUDA "), step.out());
  }

  @Test
  void aMixtureOfExpertsIsCalibratedLikeADenseModel(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tiny-moe.json");
    Run moe = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny-moe", "--batches", "1,2", "--context",
        "32", "--prefill", "16,32", "--reps", "2", "--expert-parallel", "1,2", "--calibration-out", file.toString());
    assertEquals(0, moe.code(), moe.out());
    String json = Files.readString(file);
    assertTrue(json.contains("\"model\": \"tiny-moe\""), json);
    assertTrue(json.contains("{\"batch\": 2, \"context\": 32, \"step_us\": "), json);
    assertTrue(json.contains("{\"layout\": \"dp\", \"tensor_parallel\": 1, \"decode_path\""), json);
    assertTrue(json.contains("{\"layout\": \"ep=2\", \"tensor_parallel\": 2, \"parallelism\": \"expert\""), json);
    assertTrue(moe.out().contains("expert-parallel x2"), moe.out());
  }

  @Test
  void aTensorParallelReplicaOfCpuRanksGetsItsOwnTable(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tiny.json");
    Run tp = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny", "--batches", "1,2", "--context", "32",
        "--prefill", "16,32", "--reps", "2", "--tensor-parallel", "1,2", "--calibration-out", file.toString());
    assertEquals(0, tp.code(), tp.out());
    String json = Files.readString(file);
    assertTrue(json.contains("{\"layout\": \"dp\", \"tensor_parallel\": 1, \"decode_path\""), json);
    assertTrue(json.contains("{\"layout\": \"tp=2\", \"tensor_parallel\": 2, \"decode_path\""), json);
    assertTrue(tp.out().contains("tensor-parallel x2:"), tp.out());
    Run odd = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny", "--tensor-parallel", "3");
    assertEquals(2, odd.code());
    assertTrue(odd.out().startsWith("gpu-agent bench step: --tensor-parallel 3: "), odd.out());
  }

  @Test
  void stepsOfSeveralPromptsAreTimedAndCalibratedBesideTheOnePromptCurve(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tiny.json");
    Run b = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny", "--batches", "1", "--context", "32",
        "--prefill", "16,64,64x4", "--reps", "2", "--calibration-out", file.toString());
    assertEquals(0, b.code(), b.out());
    assertTrue(b.out().contains("prefill T=64 in 4 prompts TTFT "), b.out());
    assertTrue(b.out().contains("\n64 in 4 prompts "), b.out());
    String json = Files.readString(file);
    assertTrue(json.contains("{\"tokens\": 64, \"step_us\": "), json);
    assertTrue(json.contains("{\"tokens\": 64, \"prompts\": 4, \"step_us\": "), json);
    for (String[] bad : new String[][] {{"64x0", "--prefill: '64x0' needs T >= 1 and 1 <= K <= T"},
        {"4x8", "--prefill: '4x8' needs T >= 1 and 1 <= K <= T"},
        {"64x4x2", "--prefill: '64x4x2' is not T or TxK (K prompts sharing T tokens)"},
        {"64x4", "--prefill needs at least one single prompt (a T without xK)"}}) {
      Run r = run(BenchStepCommand::new, "--backend", "cpu", "--prefill", bad[0]);
      assertEquals(2, r.code(), r.out());
      assertEquals("gpu-agent bench step: " + bad[1] + "\n", r.out());
    }
  }

  @Test
  void expertParallelSizesTheModelCannotSplitAreOneLine() {
    Run dense = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny", "--expert-parallel", "2");
    assertEquals(2, dense.code());
    assertEquals("gpu-agent bench step: --expert-parallel 2: model tiny has no experts: expert parallelism needs a "
        + "mixture of experts\n", dense.out());
    Run three = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny-moe", "--expert-parallel", "3");
    assertEquals(2, three.code());
    assertTrue(three.out().startsWith("gpu-agent bench step: --expert-parallel 3: model tiny-moe cannot be split 3 "
        + "ways"), three.out());
    Run cuda = run(BenchStepCommand::new, "--model", "tiny-moe", "--expert-parallel", "1,2");
    assertEquals(2, cuda.code());
    assertTrue(cuda.out().startsWith("gpu-agent bench step: --expert-parallel applies to --backend cpu"), cuda.out());
    Run twice = run(BenchStepCommand::new, "--backend", "cpu", "--model", "tiny-moe", "--expert-parallel", "2,2");
    assertEquals(2, twice.code());
    assertEquals("gpu-agent bench step: --expert-parallel lists a size twice: [2, 2]\n", twice.out());
  }

  @Test
  void badArgumentsAreNamedBeforeAnyDeviceIsTouched() {
    Run path = run(ParityCommand::new, "--decode-paths", "eager,turbo");
    assertEquals(2, path.code());
    assertTrue(path.out().startsWith("gpu-agent parity: unknown decode path 'turbo'"), path.out());
    Run model = run(ParityCommand::new, "--model", "gpt-9");
    assertEquals(2, model.code());
    assertTrue(model.out().startsWith("gpu-agent parity: unknown model 'gpt-9'"), model.out());
    Run attention = run(ParityCommand::new, "--attention", "flash");
    assertEquals(2, attention.code());
    assertEquals("gpu-agent parity: --attention must be auto or paged, got 'flash'\n", attention.out());
    Run parityGemm = run(ParityCommand::new, "--gemm", "fastest");
    assertEquals(2, parityGemm.code());
    assertEquals("gpu-agent parity: --gemm must be auto, ours, cublaslt or skinny2 (was 'fastest')\n", parityGemm.out());
    Run gemm = run(BenchStepCommand::new, "--gemm", "fast");
    assertEquals(2, gemm.code());
    assertEquals("gpu-agent bench step: --gemm must be auto, ours, cublaslt or skinny2 (was 'fast')\n", gemm.out());
    Run batches = run(BenchStepCommand::new, "--batches", "1,0");
    assertEquals(2, batches.code());
    assertTrue(batches.out().startsWith("gpu-agent bench step: "), batches.out());
    Run quant = run(ParityCommand::new, "--quantization", "int8");
    assertEquals(2, quant.code());
    assertEquals("gpu-agent parity: --quantization must be none, fp8 or fp8-dynamic, got 'int8'\n", quant.out());
    Run kv = run(BenchStepCommand::new, "--quantization", "fp8", "--kv-cache-dtype", "fp16");
    assertEquals(2, kv.code());
    assertEquals("gpu-agent bench step: --kv-cache-dtype must be auto or fp8, got 'fp16'\n", kv.out());
    Run profile = run(BenchStepCommand::new, "--profile-steps", "-1");
    assertEquals(2, profile.code());
    assertEquals("gpu-agent bench step: --profile-steps must be >= 0, got -1\n", profile.out());
    Run backend = run(BenchStepCommand::new, "--backend", "tpu");
    assertEquals(2, backend.code());
    assertEquals("gpu-agent bench step: --backend must be cuda or cpu, got 'tpu'\n", backend.out());
    Run message = run(BenchStepCommand::new, "--backend", "cpu", "--message-us", "-1");
    assertEquals(2, message.code());
    assertEquals("gpu-agent bench step: --message-us must be >= 0, got -1.0\n", message.out());
    Run cpuFp8 = run(BenchStepCommand::new, "--backend", "cpu", "--kv-cache-dtype", "fp8");
    assertEquals(2, cpuFp8.code());
    assertEquals("gpu-agent bench step: --quantization and --kv-cache-dtype apply to --backend cuda only\n",
        cpuFp8.out());
    Run fp8Calibration = run(BenchStepCommand::new, "--quantization", "fp8", "--calibration-out", "unused.json");
    assertEquals(2, fp8Calibration.code());
    assertEquals("gpu-agent bench step: --calibration-out records bf16 step times only: leave out --quantization "
        + "and --kv-cache-dtype\n", fp8Calibration.out());
    Run device = run(BenchRooflineCommand::new, "--device", "h100", "--calibration-out", "unused.json");
    assertEquals(2, device.code());
    assertEquals("gpu-agent bench roofline: unknown device 'h100' (known: h200, b200)\n", device.out());
    Run efficiency = run(BenchRooflineCommand::new, "--device", "h200", "--memory-efficiency", "1.5",
        "--calibration-out", "unused.json");
    assertEquals(2, efficiency.code());
    assertEquals("gpu-agent bench roofline: --memory-efficiency and --compute-efficiency must be in (0, 1]\n",
        efficiency.out());
  }

  @Test
  void theCliKnowsParityAndBenchStep() {
    CommandLine cli = new CommandLine(new GpuAgentCli());
    assertTrue(cli.getSubcommands().containsKey("parity"));
    assertTrue(cli.getSubcommands().get("bench").getSubcommands().containsKey("step"));
    assertTrue(cli.getSubcommands().get("bench").getSubcommands().containsKey("roofline"));
  }
}
