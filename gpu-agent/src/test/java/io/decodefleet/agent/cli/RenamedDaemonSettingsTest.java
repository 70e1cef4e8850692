package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The daemon's cluster port is {@code --cluster-port} / DECODEFLEET_CLUSTER_PORT, as the coordinator
 * names it; the old {@code --port} and DECODEFLEET_PORT fail with one line naming the new name, before
 * any cluster starts.
 */
class RenamedDaemonSettingsTest {

  private record Result(int code, List<String> err) {}

  private static Result run(Map<String, String> environment, String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = GpuAgentCli.run(environment, args);
      return new Result(rc, err.toString(StandardCharsets.UTF_8).lines().toList());
    } finally {
      System.setErr(saved);
    }
  }

  @Test
  void oldPortFlagIsRefusedNamingClusterPort() {
    Result r = run(Map.of(), "--seed-nodes", "127.0.0.1:1", "--port", "2552");
    assertEquals(2, r.code(), r.err().toString());
    assertEquals(List.of("gpu-agent: --port was renamed: use --cluster-port"), r.err());
  }

  @Test
  void oldPortFlagWithEqualsIsRefusedToo() {
    Result r = run(Map.of(), "--seed-nodes", "127.0.0.1:1", "--port=0");
    assertEquals(2, r.code());
    assertEquals(List.of("gpu-agent: --port was renamed: use --cluster-port"), r.err());
  }

  @Test
  void oldPortEnvironmentVariableIsRefusedNamingTheNewOne() {
    Result r = run(Map.of("DECODEFLEET_PORT", "2552"), "--seed-nodes", "127.0.0.1:1");
    assertEquals(2, r.code());
    assertEquals(List.of("gpu-agent: DECODEFLEET_PORT was renamed: set DECODEFLEET_CLUSTER_PORT"), r.err());
  }

  @Test
  void clusterPortIsTheDaemonsOption() {
    Result r = run(Map.of(), "--seed-nodes", "127.0.0.1:1", "--cluster-port", "70000");
    assertEquals(2, r.code());
    assertEquals(List.of("gpu-agent: --cluster-port must be in 0..65535, got 70000"), r.err());
  }

  @Test
  void deviceToolsIgnoreTheOldEnvironmentVariable() {
    assertEquals(null, GpuAgentCli.renamedSetting(List.of("--seed-nodes", "127.0.0.1:1"), Map.of()));
    Result r = run(Map.of("DECODEFLEET_PORT", "2552"), "selftest", "--help");
    assertEquals(0, r.code(), r.err().toString());
  }
}
