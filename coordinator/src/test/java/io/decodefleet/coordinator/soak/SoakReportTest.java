package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SoakReportTest {
  @TempDir
  Path dir;

  @Test
  void aSoakStoppedByAnErrorStillWritesSoakJsonThatSaysWhy() throws Exception {
    SoakSettings settings = new SoakSettings(Duration.ofSeconds(100), 4, 2, Duration.ofSeconds(15), 8, 3, dir);
    Path file = dir.resolve("sub").resolve("soak.json");
    IOException error = new IOException("coordinator-1#1 exited with code 1 before it was ready; stdout x: boom");

    SoakReport.writeStopped("2026-12-06T11:00:00Z", settings, List.of(new SoakResult.Phase("start", 12.5)),
        List.of("an earlier problem"), error, file);

    JsonNode soak = new ObjectMapper().readTree(Files.readString(file));
    assertFalse(soak.get("passed").asBoolean());
    assertEquals(4, soak.get("settings").get("daemons").asInt());
    assertEquals(12.5, soak.get("phases_s").get("start").asDouble());
    assertTrue(soak.get("stopped_by").get("error").asText().contains("exited with code 1 before it was ready"));
    assertTrue(soak.get("stopped_by").get("stack_trace").asText().contains("SoakReportTest"));
    assertEquals("an earlier problem", soak.get("problems").get(0).asText());
  }
}
