package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One set of cluster option names for both CLIs: serve's gRPC port is {@code --grpc-port}, the
 * cluster port {@code --cluster-port} / DECODEFLEET_CLUSTER_PORT. The old {@code --port} and
 * DECODEFLEET_PORT fail with one line naming the new name and exit code 2, before any node starts.
 */
class RenamedClusterSettingsTest {

  private record Result(int code, List<String> err) {}

  private static Result run(Map<String, String> environment, String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int rc = CoordinatorCli.run(environment, args);
      return new Result(rc, err.toString(StandardCharsets.UTF_8).lines().toList());
    } finally {
      System.setErr(saved);
    }
  }

  @Test
  void servesOldPortFlagIsRefusedNamingGrpcPort() {
    Result r = run(Map.of(), "serve", "--world-size", "1", "--port", "50051");
    assertEquals(2, r.code(), r.err().toString());
    assertEquals(List.of("coordinator serve: --port was renamed: use --grpc-port"), r.err());
  }

  @Test
  void oldPortEnvironmentVariableIsRefusedByServe() {
    Result r = run(Map.of("DECODEFLEET_PORT", "2552"), "serve", "--world-size", "1");
    assertEquals(2, r.code());
    assertEquals(List.of("coordinator serve: DECODEFLEET_PORT was renamed: set DECODEFLEET_CLUSTER_PORT"), r.err());
  }

  @Test
  void oldPortEnvironmentVariableIsRefusedByTheBenchmark() {
    Result r = run(Map.of("DECODEFLEET_PORT", "2552"), "--world-size", "1");
    assertEquals(2, r.code());
    assertEquals(List.of("coordinator: DECODEFLEET_PORT was renamed: set DECODEFLEET_CLUSTER_PORT"), r.err());
  }

  @Test
  void grpcPortIsServesOption() {
    Result r = run(Map.of(), "serve", "--world-size", "1", "--grpc-port", "70000");
    assertEquals(2, r.code());
    assertEquals(List.of("coordinator serve: --grpc-port must be in 0..65535, got 70000"), r.err());
  }

  @Test
  void clusterPortIsTheSameOptionInBothCommands() {
    assertEquals(List.of("coordinator serve: --cluster-port must be in 0..65535, got 70000"),
        run(Map.of(), "serve", "--world-size", "1", "--cluster-port", "70000").err());
    assertEquals(List.of("coordinator: --cluster-port must be in 0..65535, got 70000"),
        run(Map.of(), "--world-size", "1", "--cluster-port", "70000").err());
  }
}
