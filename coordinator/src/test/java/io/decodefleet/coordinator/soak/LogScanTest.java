package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogScanTest {
  @TempDir
  Path dir;

  @Test
  void aLogWithOneLineWarningsHasNoStackTrace() throws Exception {
    Path log = dir.resolve("daemon-0.1.err");
    Files.writeString(log, """
        00:58:37.219 WARN  PhiAccrualFailureDetector - heartbeat interval is growing too large: 2530 millis
        00:59:21.848 WARN  Coordinator - agent daemon-2-0 left the cluster; re-placing its sequences
        the word at (in a sentence) is not a frame
        """);
    assertTrue(LogScan.scan(List.of(log, dir.resolve("missing.out"))).isEmpty());
  }

  @Test
  void framesAndCausesAreFoundWithTheLineBeforeThem() throws Exception {
    Path quiet = dir.resolve("coordinator-0.1.err");
    Files.writeString(quiet, "all fine\n");
    Path log = dir.resolve("coordinator-0.2.err");
    Files.writeString(log, """
        01:00:00.000 ERROR ActorSystemImpl - Uncaught error
        java.lang.IllegalStateException: boom
        \tat io.decodefleet.coordinator.Coordinator.onSubmit(Coordinator.java:281)
        \tat org.apache.pekko.actor.typed.javadsl.BehaviorBuilder$Case.apply(BehaviorBuilder.scala:97)
        Caused by: java.io.IOException: gone
        \t... 12 more
        """);
    List<LogScan.StackTrace> found = LogScan.scan(List.of(quiet, log));
    assertEquals(1, found.size());
    LogScan.StackTrace t = found.get(0);
    assertEquals(log, t.file());
    assertEquals(3, t.line());
    assertEquals(3, t.lines(), "two frames and the Caused by line");
    assertTrue(t.excerpt().startsWith("java.lang.IllegalStateException: boom / at io.decodefleet"), t.excerpt());
  }

  @Test
  void aLogCutInTheMiddleOfACharacterIsStillRead() throws Exception {
    Path log = dir.resolve("daemon-1.1.out");
    byte[] ellipsis = "\u2026".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] text = "agents at 127.0.0.1\nloading".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] cut = java.util.Arrays.copyOf(text, text.length + 2);
    System.arraycopy(ellipsis, 0, cut, text.length, 2); // the first two of its three bytes, as a killed process leaves it
    Files.write(log, cut);

    List<String> lines = ChildProcess.lines(log);
    assertEquals("agents at 127.0.0.1", lines.get(0));
    assertEquals("loading\uFFFD", lines.get(1));
    assertTrue(LogScan.scan(List.of(log)).isEmpty());
  }
}
