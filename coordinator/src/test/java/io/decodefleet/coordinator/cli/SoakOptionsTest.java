package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code coordinator soak}'s options: a bad value is one line and exit 2, before any process starts. */
class SoakOptionsTest {

  private record Result(int code, String err) {}

  private static Result run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = CoordinatorCli.run(args);
      return new Result(code, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--daemons 1                          | --daemons must be >= 2 (a fault never stops the last daemon up), got 1",
      "--coordinators 4                     | --coordinators must be 1, 2 or 3, got 4",
      "--coordinators 0                     | --coordinators must be 1, 2 or 3, got 0",
      "--concurrency 0                      | --concurrency must be >= 1, got 0",
      "--duration 2x                        | --duration must be a time such as 90s, 2m or 1h, got '2x'",
      "--duration -5s                       | --duration must be a time such as 90s, 2m or 1h, got '-5s'",
      "--fault-interval 500ms               | --fault-interval must be at least 1s, got 500ms",
      "--duration 15s --fault-interval 15s  | --duration (15s) must be longer than --fault-interval (15s), or no fault is "
          + "injected",
  })
  void badValueGetsOneLineAndExitCode2(String args, String expected) {
    String[] argv = ("soak " + args.strip()).split("\\s+");
    Result r = run(argv);
    assertEquals(2, r.code(), r.err());
    assertEquals("coordinator soak: " + expected, r.err().strip());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"90s, 90", "2m, 120", "30m, 1800", "1h, 3600", "45, 45", "1500ms, 1.5"})
  void durationsReadAsTheirUnitSays(String text, double seconds) {
    assertEquals(Duration.ofMillis(Math.round(seconds * 1000)), SoakCommand.duration("--duration", text));
  }
}
