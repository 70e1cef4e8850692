package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimeVersionsTest {

  @Test
  void versionsNameTheBuildTheJvmAndPekko() {
    Map<String, String> versions = RuntimeVersions.current();
    assertEquals(List.of("decodefleet", "java", "pekko"), List.copyOf(versions.keySet()));
    assertFalse(versions.get("decodefleet").isBlank());
    assertFalse(versions.get("decodefleet").equals("unknown"), "the build writes the version");
    assertFalse(versions.get("decodefleet").contains("${"), versions.get("decodefleet"));
    assertEquals(System.getProperty("java.version"), versions.get("java"));
    assertEquals(org.apache.pekko.Version.current(), versions.get("pekko"));
  }
}
