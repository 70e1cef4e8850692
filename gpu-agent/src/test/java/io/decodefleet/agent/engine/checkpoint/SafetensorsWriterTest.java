package io.decodefleet.agent.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensors of several chunks each, produced by the writer's worker threads, land in the file in order,
 * element for element; a producer's failure is the write's.
 */
class SafetensorsWriterTest {
  @TempDir
  Path tmp;

  @Test
  void chunksProducedAheadLandInFileOrder() throws IOException {
    long big = 3L * (1 << 20) + 12345; // four chunks, the last short
    List<SafetensorsWriter.Tensor> tensors = List.of(
        new SafetensorsWriter.Tensor("a", TensorDtype.F32, new long[] {big}, (first, count, out) -> {
          for (int i = 0; i < count; i++) out.putFloat(first + i);
        }),
        new SafetensorsWriter.Tensor("b", TensorDtype.F32, new long[] {3, 5}, (first, count, out) -> {
          for (int i = 0; i < count; i++) out.putFloat(-1f - (first + i));
        }),
        new SafetensorsWriter.Tensor("c", TensorDtype.F32, new long[] {2L << 20}, (first, count, out) -> {
          for (int i = 0; i < count; i++) out.putFloat(0.5f * ((first + i) % 1000));
        }));
    Path file = tmp.resolve("t.safetensors");
    SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    SafetensorsFile read = SafetensorsFile.read(file);
    MappedTensor a = MappedTensor.map(read.tensors().get("a"));
    MappedTensor b = MappedTensor.map(read.tensors().get("b"));
    MappedTensor c = MappedTensor.map(read.tensors().get("c"));
    for (long i = 0; i < big; i += 997) assertEquals((float) i, a.get(i), "a[" + i + "]");
    assertEquals((float) (big - 1), a.get(big - 1));
    for (int i = 0; i < 15; i++) assertEquals(-1f - i, b.get(i));
    for (long i = 0; i < (2L << 20); i += 4099) assertEquals(0.5f * (i % 1000), c.get(i), "c[" + i + "]");
    assertEquals("pt", read.metadata().get("format"));
  }

  @Test
  void aProducersFailureIsTheWritesFailure() {
    List<SafetensorsWriter.Tensor> tensors = List.of(
        new SafetensorsWriter.Tensor("short", TensorDtype.F32, new long[] {(1 << 20) + 10}, (first, count, out) -> {
          for (int i = 0; i < count - (first > 0 ? 1 : 0); i++) out.putFloat(1f);
        }));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SafetensorsWriter.write(tmp.resolve("bad.safetensors"), tensors, Map.of()));
    assertEquals("tensor short: elements 1048576..1048586 gave 36 bytes, not 40", e.getMessage());
  }
}
