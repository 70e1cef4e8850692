package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.ReadAhead;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checked checkpoint's tensors into the weight allocation, each at the place its {@link
 * WeightLayout} gives (q/k/v and gate/up fused row-wise, a tensor-parallel rank's slice only), as
 * bf16: a BF16 tensor's bytes as they are, an F16 or F32 one rounded to bf16 on the host.
 *
 * <p>The file is mapped, never read whole into the heap: {@link WeightStaging} packs its bytes into
 * one of two pinned staging buffers of {@link #STAGING_BYTES}, from where an asynchronous copy takes
 * them to the device. While one buffer's copy runs, the other fills; the stream is synchronised before
 * each copy is enqueued, which is also when the buffer filled next is known to have been copied out
 * of. Progress is logged every tenth of the bytes, with the rate so far; the whole upload's bytes and
 * rate go into the backend's load line. Every driver call goes through {@link CudaContext#check}.
 *
 * <p>A {@link ReadAhead} of {@value #READ_AHEAD_ENV} threads (default {@link ReadAhead#THREADS}; 0: none)
 * reads the tensors' bytes into the page cache ahead of the mapping, so that a checkpoint not yet
 * cached comes off the disk through several large reads at once rather than page faults one by one.
 */
final class CheckpointUpload {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointUpload.class);
  /** Bytes of one staging buffer (two are allocated). */
  static final int STAGING_BYTES = 64 << 20;
  /** Readers ahead of the upload: a count, 0 for none. */
  static final String READ_AHEAD_ENV = "DECODEFLEET_CHECKPOINT_READ_AHEAD";

  private CheckpointUpload() {}

  /**
   * What an upload moved and how fast: bytes to the device over the wall time from first read to last
   * copy, with the readers that went ahead of it.
   */
  record Outcome(long bytes, long nanos, int readers) {
    Outcome(long bytes, long nanos) {
      this(bytes, nanos, 0);
    }

    double gbPerSecond() {
      return nanos == 0 ? 0 : bytes / (double) nanos;
    }

    /** e.g. "uploaded 16.06 GB from the checkpoint in 7.1 s (2.26 GB/s, 4 threads reading ahead)". */
    String describe() {
      return String.format(Locale.ROOT, "uploaded %.2f GB from the checkpoint in %.1f s (%.2f GB/s, %s)", bytes / 1e9,
          nanos / 1e9, gbPerSecond(), readers == 0 ? "no read-ahead" : readers + " threads reading ahead");
    }
  }

  static long uploadBytes(WeightLayout layout) {
    long total = 0;
    for (WeightLayout.Tensor t : layout.tensors()) total += t.bytes() + (t.fp8() ? (long) Float.BYTES * t.rows() : 0);
    return total;
  }

  /** Uploads every tensor of {@code layout} from {@code checkpoint} into {@code arena}; returns when it is there. */
  static Outcome upload(CudaContext ctx, CudaStream stream, WeightLayout layout, CheckedCheckpoint checkpoint,
      DeviceBuffer arena) {
    long total = uploadBytes(layout);
    Progress progress = new Progress(ctx.gpu().label(), total);
    PinnedBuffer[] staging = new PinnedBuffer[2];
    List<CheckedCheckpoint.Tensor> sources = new ArrayList<>();
    for (WeightLayout.Tensor t : layout.tensors()) sources.add(t.in(checkpoint));
    int readers = readAheadThreads(System.getenv(READ_AHEAD_ENV));
    ReadAhead ahead = readers == 0 ? null
        : new ReadAhead(sources.stream().map(CheckedCheckpoint.Tensor::weight).toList(), readers);
    try {
      staging[0] = PinnedBuffer.allocate(ctx, STAGING_BYTES);
      staging[1] = PinnedBuffer.allocate(ctx, STAGING_BYTES);
      WeightStaging stager = new WeightStaging(new ByteBuffer[] {staging[0].bytes(), staging[1].bytes()},
          (buffer, arenaOffset, bytes) -> {
            // The other buffer's copy must be done before this one's is enqueued and that one refilled.
            stream.synchronize("the previous staged checkpoint copy");
            staging[buffer].copyTo(arena, arenaOffset, bytes, stream);
            progress.add(bytes);
          });
      for (int i = 0; i < sources.size(); i++) {
        WeightLayout.Tensor t = layout.tensors().get(i);
        CheckedCheckpoint.Tensor source = sources.get(i);
        if (ahead != null) ahead.reached(i);
        try {
          stager.tensor(t, MappedTensor.map(source));
        } catch (RuntimeException e) {
          throw new IllegalStateException("uploading " + source.weight().name() + " from " + source.weight().file()
              + " to " + ctx.gpu().label() + ": " + e.getMessage(), e);
        }
      }
      stream.synchronize("uploading " + layout.tensors().size() + " checkpoint tensors");
    } catch (RuntimeException e) {
      // Wait for any copy still reading a staging buffer before freeing it; the first failure is the
      // one to report, later ones ride along as suppressed.
      try {
        if (staging[0] != null) stream.synchronize("the last staged checkpoint copy");
      } catch (RuntimeException s) {
        e.addSuppressed(s);
      }
      for (PinnedBuffer b : staging) {
        try {
          if (b != null) b.close();
        } catch (RuntimeException c) {
          e.addSuppressed(c);
        }
      }
      throw e;
    } finally {
      if (ahead != null) ahead.close();
    }
    for (PinnedBuffer b : staging) b.close();
    Outcome outcome = new Outcome(total, System.nanoTime() - progress.start, readers);
    LOG.info("{}: {} ({})", ctx.gpu().label(), outcome.describe(), checkpoint.directory());
    return outcome;
  }

  /** Logs the upload every tenth of its bytes, with its rate so far. */
  /** The {@value #READ_AHEAD_ENV} value: unset or blank gives the default; 0 to 64 readers. */
  static int readAheadThreads(String value) {
    if (value == null || value.isBlank()) return ReadAhead.THREADS;
    try {
      int n = Integer.parseInt(value.trim());
      if (n >= 0 && n <= 64) return n;
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(READ_AHEAD_ENV + " must be a number of threads from 0 to 64, got '" + value
        + "'");
  }

  static final class Progress {
    private final String gpu;
    private final long total;
    final long start = System.nanoTime();
    private long done;
    private int nextTenth = 1;

    Progress(String gpu, long total) {
      this.gpu = gpu;
      this.total = total;
    }

    void add(long bytes) {
      done += bytes;
      if (total > 0 && done * 10 >= nextTenth * total) {
        LOG.info(line(System.nanoTime() - start));
        while (nextTenth * total <= done * 10) nextTenth++;
      }
    }

    /** e.g. "GPU 0: checkpoint upload 1606.4 MB of 16064.0 MB (10%), 2.31 GB/s". */
    String line(long elapsedNanos) {
      return String.format(Locale.ROOT, "%s: checkpoint upload %s of %s (%d%%), %.2f GB/s", gpu, mb(done), mb(total),
          total == 0 ? 100 : done * 100 / total, elapsedNanos == 0 ? 0.0 : done / (double) elapsedNanos);
    }
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }
}
