package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mooncake-format rows in a .jsonl trace: arrivals in ms, and hash_ids replayed as shared token blocks. */
class MooncakeTraceTest {
  @TempDir
  Path dir;

  private List<RequestSpec> read(String... lines) throws Exception {
    Path file = dir.resolve("mooncake.jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return TraceReader.read(file, new TraceOptions(1.0, 0, 4), 1000, 2048, 7);
  }

  @Test
  void sharedHashIdsGiveSharedTokenBlocksAndDifferentIdsDifferentOnes() throws Exception {
    List<RequestSpec> r = read(
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [46, 47, 48]}",
        "{\"timestamp\": 1500, \"input_length\": 9, \"output_length\": 5, \"hash_ids\": [46, 47, 90]}",
        "{\"timestamp\": 2000, \"input_length\": 6, \"output_length\": 2, \"hash_ids\": [5, 47]}");
    assertEquals(1_500_000_000L, r.get(1).arrivalNanos());
    assertEquals(10, r.get(0).promptTokens().length);
    assertEquals(5, r.get(1).maxTokens());
    assertArrayEquals(Arrays.copyOf(r.get(0).promptTokens(), 8), Arrays.copyOf(r.get(1).promptTokens(), 8),
        "blocks 46 and 47 are the same 8 tokens in both");
    assertFalse(Arrays.equals(Arrays.copyOfRange(r.get(0).promptTokens(), 0, 4),
        Arrays.copyOfRange(r.get(2).promptTokens(), 0, 4)), "ids 46 and 5: different tokens");
    assertArrayEquals(Arrays.copyOfRange(r.get(0).promptTokens(), 4, 6), Arrays.copyOfRange(r.get(2).promptTokens(),
        4, 6), "block 47 is the same wherever it appears");
  }

  @Test
  void aMalformedRowIsNamedByLineAndField() {
    TraceFormatException e = assertThrows(TraceFormatException.class, () -> read(
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [1]}",
        "{\"timestamp\": 5, \"input_length\": 10, \"output_length\": 3, \"hash_ids\": [\"x\"]}"));
    assertTrue(e.getMessage().contains(":2:") && e.getMessage().contains("hash_ids[0]"), e.getMessage());
    TraceFormatException missing = assertThrows(TraceFormatException.class, () -> read(
        "{\"timestamp\": 0, \"input_length\": 10, \"hash_ids\": [1]}"));
    assertTrue(missing.getMessage().contains("output_length"), missing.getMessage());
  }
}
