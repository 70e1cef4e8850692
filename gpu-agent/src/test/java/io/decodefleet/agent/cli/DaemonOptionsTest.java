package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The daemon's bad options: one line on stderr and exit 2, before any cluster starts. */
class DaemonOptionsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--seed-nodes 127.0.0.1:1 --tensor-parallel 0 | gpu-agent: --tensor-parallel must be >= 1, got 0",
      "--seed-nodes 127.0.0.1:1 --cpu-agents 0      | gpu-agent: --cpu-agents must be >= 1, got 0",
      "--seed-nodes 127.0.0.1:1 --expert-parallel 0 | gpu-agent: --expert-parallel must be >= 1, got 0",
      "--seed-nodes 127.0.0.1:1 --expert-parallel 2 --tensor-parallel 2 | gpu-agent: --expert-parallel and "
          + "--tensor-parallel cannot both be over 1: a replica splits one way",
      "--seed-nodes nohost                          | gpu-agent: --seed-nodes: 'nohost' is not host:port",
      "--seed-nodes 127.0.0.1:1 --gemm fast         | gpu-agent: --gemm must be auto, ours, cublaslt or skinny2 (was 'fast')",
  })
  void badOptionGetsOneLineAndExit2(String args, String expected) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = GpuAgentCli.run(args.strip().split("\\s+"));
    } finally {
      System.setErr(saved);
    }
    assertEquals(2, rc, err.toString(StandardCharsets.UTF_8));
    assertEquals(List.of(expected), err.toString(StandardCharsets.UTF_8).lines().toList());
  }
}
