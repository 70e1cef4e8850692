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
    String[] r = run("--model", "tiny", "--batches", "1,48", "--context", "300", "--reps", "10");
    assertEquals("0", r[0], r[1]);
    List<String> lines = r[1].lines().toList();
    assertTrue(lines.get(0).startsWith("host part of a graph decode step before its launch: context 300, block 16"),
        r[1]);
    assertEquals(4, lines.size(), r[1]);
    assertTrue(lines.get(2).trim().startsWith("1 ") && lines.get(3).trim().startsWith("48 "), r[1]);
    // Four parts, each "median / p90".
    assertEquals(4, lines.get(3).split(" / ").length - 1, r[1]);
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
    String[] block = run("--block-size", "12");
    assertEquals("2", block[0]);
    assertEquals("gpu-agent bench host-step: --block-size must be a power of two, got 12\n", block[1]);
  }
}
