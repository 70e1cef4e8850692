package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --moe-router} and {@code --layout ep=K}: one line with exit 2 for what cannot run. */
class MoeOptionsTest {

  private record Result(int code, String err) {}

  private static Result run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Result(CoordinatorCli.run(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--model tiny-moe --moe-router top2          | --moe-router must be topk or capacity:F with a capacity factor F"
          + " in (0, 1000] (e.g. capacity:1.25), got 'top2'",
      "--model tiny-moe --moe-router capacity:0        | --moe-router must be topk or capacity:F",
      "--model tiny-moe --moe-router capacity:x        | got 'capacity:x'",
      "--model tiny --moe-router capacity:1.25     | --moe-router capacity:1.25 applies to mixture-of-experts models,"
          + " and tiny is dense",
      "--model tiny --layout ep=2 --backend cpu        | --layout ep=2: model tiny has no experts: expert parallelism"
          + " needs a mixture of experts",
      "--model tiny-moe --layout ep=3 --world-size 3 --backend cpu | --layout ep=3: model tiny-moe cannot be split 3"
          + " ways: num_experts 8 is not a multiple of 3",
      "--model tiny-moe --layout ep=1                  | --layout ep=K needs K in 2..64, got 1",
      "--model tiny-moe --moe-router capacity:2 --verify | --verify checks each sequence against its recompute alone,"
          + " and --moe-router capacity:2.0 drops tokens by what else is in the batch: verify with --moe-router topk",
  })
  void badMoeOptionsGetOneLineAndExitCode2(String args, String expected) {
    Result r = run(args.strip().split("\\s+"));
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "exactly one line on stderr, got: " + r.err());
    assertTrue(lines.get(0).startsWith("coordinator: "), lines.get(0));
    assertTrue(lines.get(0).contains(expected), lines.get(0));
    assertFalse(r.err().contains("Exception"), r.err());
  }
}
