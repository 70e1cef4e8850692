package io.decodefleet.agent.engine.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads tensors' bytes from their files on a few threads, in the order an upload will map them and
 * at most {@link #AHEAD_BYTES} ahead of it, so that the upload finds them in the page cache. One
 * reader faulting a mapped file in page by page keeps one small read in flight; several readers of
 * large pieces keep the disk's queue full. What is read is thrown away (the kernel keeps it cached).
 *
 * <p>A read that fails is skipped and counted: the upload that follows maps the same bytes and
 * reports the failure itself, naming the file and tensor.
 */
public final class ReadAhead implements AutoCloseable {

  /** Readers, each with one piece in flight. */
  public static final int THREADS = 4;
  /** Bytes one read asks for. */
  static final int PIECE_BYTES = 16 << 20;
  /** How far past the upload's position the readers may go. */
  static final long AHEAD_BYTES = 1L << 30;

  private record Piece(Path file, long offset, int length, long start) {}

  private final long aheadBytes;
  private final List<Piece> pieces = new ArrayList<>();
  private final long[] tensorStart; // bytes before tensor i in upload order
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLong read = new AtomicLong();
  private final AtomicInteger failures = new AtomicInteger();
  private final Object progress = new Object();
  private final List<Thread> threads = new ArrayList<>();
  private long position; // guarded by progress: the upload's position, in bytes of the tensors
  private boolean closed; // guarded by progress

  /**
   * Starts reading {@code tensors} (in upload order) at once.
   *
   * @param threads readers (at least 1)
   */
  public ReadAhead(List<TensorEntry> tensors, int threads) {
    this(tensors, threads, AHEAD_BYTES);
  }

  /** As above, the readers at most {@code aheadBytes} past the upload's position. */
  ReadAhead(List<TensorEntry> tensors, int threads, long aheadBytes) {
    if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, not " + threads);
    this.aheadBytes = aheadBytes;
    tensorStart = new long[tensors.size() + 1];
    long at = 0;
    for (int i = 0; i < tensors.size(); i++) {
      TensorEntry t = tensors.get(i);
      tensorStart[i] = at;
      for (long off = 0; off < t.byteLength(); off += PIECE_BYTES) {
        int length = (int) Math.min(PIECE_BYTES, t.byteLength() - off);
        pieces.add(new Piece(t.file(), t.dataOffset() + off, length, at + off));
      }
      at += t.byteLength();
    }
    tensorStart[tensors.size()] = at;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(this::readPieces, "checkpoint-read-ahead-" + i);
      t.setDaemon(true);
      this.threads.add(t);
      t.start();
    }
  }

  /** A read-ahead of {@link #THREADS} readers. */
  public ReadAhead(List<TensorEntry> tensors) {
    this(tensors, THREADS);
  }

  /** The upload is about to map tensor {@code index} (of the list given): readers may go on from there. */
  public void reached(int index) {
    synchronized (progress) {
      position = Math.max(position, tensorStart[Math.min(index, tensorStart.length - 1)]);
      progress.notifyAll();
    }
  }

  /** Bytes read so far. */
  public long bytesRead() {
    return read.get();
  }

  /** Reads that failed (and were skipped) so far. */
  public int failures() {
    return failures.get();
  }

  /** Stops the readers (a piece being read finishes) and waits for them. */
  @Override
  public void close() {
    synchronized (progress) {
      closed = true;
      progress.notifyAll();
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void readPieces() {
    ByteBuffer scratch = ByteBuffer.allocateDirect(PIECE_BYTES);
    Map<Path, FileChannel> open = new HashMap<>();
    try {
      for (int i = next.getAndIncrement(); i < pieces.size(); i = next.getAndIncrement()) {
        Piece p = pieces.get(i);
        if (!waitUntilNear(p.start())) return;
        try {
          FileChannel ch = open.get(p.file());
          if (ch == null) {
            ch = FileChannel.open(p.file(), StandardOpenOption.READ);
            open.put(p.file(), ch);
          }
          scratch.clear().limit(p.length());
          long at = p.offset();
          while (scratch.hasRemaining()) {
            int n = ch.read(scratch, at);
            if (n < 0) break;
            at += n;
          }
          read.addAndGet(at - p.offset());
        } catch (IOException e) {
          failures.incrementAndGet();
        }
      }
    } finally {
      for (FileChannel ch : open.values()) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // read-only; nothing to lose
        }
      }
    }
  }

  /** Waits until {@code start} is within the distance ahead of the upload; false once closed. */
  private boolean waitUntilNear(long start) {
    synchronized (progress) {
      while (!closed && start - position >= aheadBytes) {
        try {
          progress.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return !closed;
    }
  }
}
