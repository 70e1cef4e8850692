package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** gpu-agent bench host-step: runs on the CPU alone, a row per batch; bad arguments exit 2 in one line. */
class BenchHostStepCommandTest {

  private static String[] run(String... args) {
    CapturedOutput buf = new CapturedOutput();
    int rc = new CommandLine(buf.command(BenchHostStepCommand::new)).execute(args);
    return new String[] {Integer.toString(rc), buf.text()};
  }

  @Test
  void timesEachBatchWithoutADevice() {
    String[] r = run("--model", "tiny", "--batches", "1,48", "--context", "300", "--output-len", "20",
        "--reps", "10");
    assertEquals("0", r[0], r[1]);
    List<String> lines = r[1].lines().toList();
    assertTrue(lines.get(0).startsWith("host part of a graph decode step on the engine thread: prompts of 300 tokens"
        + " +-5%, 20 output tokens each, block 16"), r[1]);
    assertEquals(4, lines.size(), r[1]);
    assertEquals(List.of("batch", "schedule", "lay", "out", "step", "plan", "attention", "plan", "pack", "inputs",
        "update", "total"), List.of(lines.get(1).trim().split("\\s+")), r[1]);
    assertTrue(lines.get(2).trim().startsWith("1 ") && lines.get(3).trim().startsWith("48 "), r[1]);
    // Seven parts, each "median / p90", every one a time.
    String[] cells = lines.get(3).trim().split("\\s+");
    assertEquals(1 + 7 * 3, cells.length, r[1]);
    for (int part = 0; part < 7; part++) {
      double median = Double.parseDouble(cells[1 + 3 * part]);
      double p90 = Double.parseDouble(cells[3 + 3 * part]);
      assertTrue(median >= 0 && p90 >= median, r[1]);
    }
  }

  @Test
  void badArgumentsAreNamedInOneLine() {
    String[] batch = run("--batches", "0");
    assertEquals("2", batch[0]);
    assertEquals("gpu-agent bench host-step: --batches must be in 1..4096, got 0\n", batch[1]);
    String[] context = run("--model", "tiny", "--context", "999999");
    assertEquals("2", context[0]);
    assertTrue(context[1].startsWith("gpu-agent bench host-step: --context must be in 1..") && context[1].lines().count() == 1,
        context[1]);
    String[] longer = run("--model", "tiny", "--context", "1000", "--output-len", "1000");
    assertEquals("2", longer[0]);
    assertTrue(longer[1].startsWith("gpu-agent bench host-step: --context 1000 (+5 %) and --output-len 1000 exceed tiny's ")
        && longer[1].lines().count() == 1, longer[1]);
    String[] block = run("--block-size", "12");
    assertEquals("2", block[0]);
    assertEquals("gpu-agent bench host-step: --block-size must be a power of two, got 12\n", block[1]);
  }
}
