package io.decodefleet.agent.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readers ahead of a checkpoint upload, on real files: how much they read, how far ahead, and failures. */
class ReadAheadTest {
  private static final int PIECE = ReadAhead.PIECE_BYTES;

  @TempDir
  Path dir;

  /** A file of {@code bytes} bytes and one tensor over [offset, offset + length) of it. */
  private TensorEntry tensor(String file, long bytes, long offset, long length) throws IOException {
    Path p = dir.resolve(file);
    if (!Files.exists(p)) Files.write(p, new byte[(int) bytes]);
    return new TensorEntry(p, file + "@" + offset, TensorDtype.BF16, new long[] {length / 2}, offset, length);
  }

  private static void await(LongSupplier value, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (value.getAsLong() != expected && System.nanoTime() < deadline) Thread.sleep(5);
    assertEquals(expected, value.getAsLong());
  }

  @Test
  void everyTensorsBytesAreReadOnceFromEveryFile() throws Exception {
    // A tensor of several pieces (the last one short), one of a few bytes, one in a second file.
    List<TensorEntry> tensors = List.of(tensor("a", 3L * PIECE, 8, 2L * PIECE + 1000), tensor("a", 3L * PIECE,
        2L * PIECE + 2000, 64), tensor("b", PIECE, 0, PIECE));
    try (ReadAhead ahead = new ReadAhead(tensors, 3)) {
      await(ahead::bytesRead, 2L * PIECE + 1000 + 64 + PIECE);
      assertEquals(0, ahead.failures());
    }
  }

  @Test
  void readersStayWithinTheirDistanceOfTheUpload() throws Exception {
    List<TensorEntry> tensors = List.of(tensor("a", 3L * PIECE, 0, PIECE), tensor("a", 3L * PIECE, PIECE, PIECE),
        tensor("a", 3L * PIECE, 2L * PIECE, PIECE));
    try (ReadAhead ahead = new ReadAhead(tensors, 2, PIECE)) {
      await(ahead::bytesRead, PIECE);
      Thread.sleep(200);
      assertEquals(PIECE, ahead.bytesRead(), "the second tensor lies a whole distance past the upload's start");
      ahead.reached(1);
      await(ahead::bytesRead, 2L * PIECE);
      ahead.reached(2);
      await(ahead::bytesRead, 3L * PIECE);
    }
  }

  @Test
  void aFileThatCannotBeReadIsCountedAndSkippedAndCloseStopsWaitingReaders() throws Exception {
    TensorEntry gone = new TensorEntry(dir.resolve("missing"), "w", TensorDtype.BF16, new long[] {8}, 0, 16);
    List<TensorEntry> tensors = List.of(gone, tensor("a", 2L * PIECE, 0, PIECE), tensor("a", 2L * PIECE, PIECE, PIECE));
    ReadAhead ahead = new ReadAhead(tensors, 2, PIECE);
    await(() -> ahead.failures() + ahead.bytesRead(), 1 + PIECE);
    ahead.close(); // the reader of the last piece is still waiting for the upload: close ends it
    assertEquals(PIECE, ahead.bytesRead());
    assertTrue(ahead.failures() == 1);
    assertThrows(IllegalArgumentException.class, () -> new ReadAhead(tensors, 0));
  }
}
