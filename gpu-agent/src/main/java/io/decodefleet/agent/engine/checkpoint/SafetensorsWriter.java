package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes one safetensors file: the header (tensors in the order given, {@code __metadata__} first,
 * padded with spaces to a multiple of 8 bytes as the safetensors library pads it), then each
 * tensor's bytes back to back, produced in chunks so that no tensor is held whole in memory. Chunks
 * are produced by up to {@link #WORKERS} threads ahead of the one writing them, in file order, so an
 * export of generated weights is not bound to one core (each chunk's {@link Elements} must be safe to
 * call from any thread, as a pure function of its range is).
 */
public final class SafetensorsWriter {

  /** Elements one chunk holds at most. */
  private static final int CHUNK_ELEMENTS = 1 << 20;
  /** Threads producing chunks: the cores, at most 8 (each holds two 4 MiB chunks). */
  static final int WORKERS = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));

  /** Produces a tensor's elements {@code [first, first + count)} as little-endian bytes into {@code out}. */
  @FunctionalInterface
  public interface Elements {
    void write(long first, int count, ByteBuffer out);
  }

  /** One tensor to write: {@code data} produces its product(shape) elements of {@code dtype}. */
  public record Tensor(String name, TensorDtype dtype, long[] shape, Elements data) {
    public Tensor {
      shape = shape.clone();
    }

    long elements() {
      long n = 1;
      for (long d : shape) n = Math.multiplyExact(n, d);
      return n;
    }
  }

  private SafetensorsWriter() {}

  /** Writes {@code tensors} to {@code file}, replacing it. */
  public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Tensor t : tensors) {
      ObjectNode e = header.putObject(t.name());
      e.put("dtype", t.dtype().name());
      ArrayNode shape = e.putArray("shape");
      for (long d : t.shape()) shape.add(d);
      long bytes = Math.multiplyExact(t.elements(), t.dtype().bytes());
      e.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] text = json.writeValueAsBytes(header);
    int padded = (text.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(text);
    while (head.hasRemaining()) head.put((byte) ' ');
    head.flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      writeFully(ch, head);
      writeChunks(ch, tensors);
    }
  }

  /** Every tensor's chunks, produced by the workers ahead of this thread, written in order. */
  private static void writeChunks(FileChannel ch, List<Tensor> tensors) throws IOException {
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS, r -> {
      Thread t = new Thread(r, "safetensors-chunk");
      t.setDaemon(true);
      return t;
    });
    ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    for (int i = 0; i < 2 * WORKERS; i++) {
      free.add(ByteBuffer.allocateDirect(CHUNK_ELEMENTS * 4).order(ByteOrder.LITTLE_ENDIAN));
    }
    ArrayDeque<Future<ByteBuffer>> pending = new ArrayDeque<>();
    try {
      for (Tensor t : tensors) {
        long n = t.elements();
        for (long first = 0; first < n; first += CHUNK_ELEMENTS) {
          if (free.isEmpty()) writeNext(ch, pending, free);
          ByteBuffer chunk = free.poll();
          long from = first;
          int count = (int) Math.min(CHUNK_ELEMENTS, n - first);
          pending.add(pool.submit(() -> produce(t, from, count, chunk)));
        }
      }
      while (!pending.isEmpty()) writeNext(ch, pending, free);
    } finally {
      pool.shutdownNow();
    }
  }

  private static ByteBuffer produce(Tensor t, long first, int count, ByteBuffer chunk) {
    chunk.clear();
    t.data().write(first, count, chunk);
    if (chunk.position() != count * t.dtype().bytes()) {
      throw new IllegalStateException("tensor " + t.name() + ": elements " + first + ".." + (first + count)
          + " gave " + chunk.position() + " bytes, not " + count * t.dtype().bytes());
    }
    return chunk.flip();
  }

  /** Waits for the oldest chunk, writes it, and gives its buffer back. */
  private static void writeNext(FileChannel ch, ArrayDeque<Future<ByteBuffer>> pending, ArrayDeque<ByteBuffer> free)
      throws IOException {
    ByteBuffer chunk;
    try {
      chunk = pending.poll().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while writing a safetensors file", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw new IOException(e.getCause());
    }
    writeFully(ch, chunk);
    free.add(chunk);
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
