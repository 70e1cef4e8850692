package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import java.nio.ByteBuffer;
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
 */
final class CheckpointUpload {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointUpload.class);
  /** Bytes of one staging buffer (two are allocated). */
  static final int STAGING_BYTES = 64 << 20;

  private CheckpointUpload() {}

  /** What an upload moved and how fast: bytes to the device over the wall time from first read to last copy. */
  record Outcome(long bytes, long nanos) {
    double gbPerSecond() {
      return nanos == 0 ? 0 : bytes / (double) nanos;
    }

    /** e.g. "uploaded 16.06 GB from the checkpoint in 7.1 s (2.26 GB/s)". */
    String describe() {
      return String.format(Locale.ROOT, "uploaded %.2f GB from the checkpoint in %.1f s (%.2f GB/s)", bytes / 1e9,
          nanos / 1e9, gbPerSecond());
    }
  }

  /** Bytes the upload writes: every tensor (bf16 or FP8 codes) and, for FP8, its row scales. */
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
      for (WeightLayout.Tensor t : layout.tensors()) {
        CheckedCheckpoint.Tensor source = t.in(checkpoint);
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
    }
    for (PinnedBuffer b : staging) b.close();
    Outcome outcome = new Outcome(total, System.nanoTime() - progress.start);
    LOG.info("{}: {} ({})", ctx.gpu().label(), outcome.describe(), checkpoint.directory());
    return outcome;
  }

  /** Logs the upload every tenth of its bytes, with its rate so far. */
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
