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
 * of. Progress is logged every tenth of the bytes. Every driver call goes through {@link
 * CudaContext#check}. Not run on a GPU yet.
 */
final class CheckpointUpload {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointUpload.class);
  /** Bytes of one staging buffer (two are allocated). */
  static final int STAGING_BYTES = 64 << 20;

  private CheckpointUpload() {}

  /** Uploads every tensor of {@code layout} from {@code checkpoint} into {@code arena}; returns when it is there. */
  static void upload(CudaContext ctx, CudaStream stream, WeightLayout layout, CheckedCheckpoint checkpoint,
      DeviceBuffer arena) {
    long total = 0;
    for (WeightLayout.Tensor t : layout.tensors()) total += t.elements() * WeightLayout.ELEMENT_BYTES;
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
        CheckedCheckpoint.Tensor source = checkpoint.tensor(t.kind().tensor(), Math.max(0, t.layer()));
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
    LOG.info("{}: uploaded {} of checkpoint {}", ctx.gpu().label(), mb(total), checkpoint.directory());
  }

  /** Logs the upload every tenth of its bytes. */
  private static final class Progress {
    private final String gpu;
    private final long total;
    private long done;
    private int nextTenth = 1;

    Progress(String gpu, long total) {
      this.gpu = gpu;
      this.total = total;
    }

    void add(long bytes) {
      done += bytes;
      if (total > 0 && done * 10 >= nextTenth * total) {
        LOG.info("{}: checkpoint upload {} of {} ({}%)", gpu, mb(done), mb(total), done * 100 / total);
        while (nextTenth * total <= done * 10) nextTenth++;
      }
    }
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }
}
