package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.TensorDtype;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.cuda.Bf16;
import java.nio.ByteBuffer;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checked checkpoint's tensors into the weight allocation, each at the place its {@link
 * WeightLayout} gives (q/k/v and gate/up fused row-wise, a tensor-parallel rank's slice only), as
 * bf16: a BF16 tensor's bytes as they are, an F16 or F32 one rounded to bf16 on the host.
 *
 * <p>The file is mapped, never read whole into the heap: its bytes go into one of two pinned
 * staging buffers of {@link #STAGING_BYTES} and from there to the device by an asynchronous copy.
 * While one buffer's copy runs, the other fills; the stream is synchronised before each copy is
 * enqueued, which is also when the buffer filled next is known to have been copied out of. Progress
 * is logged every tenth of the bytes. Every driver call goes through {@link CudaContext#check}.
 */
final class CheckpointUpload {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointUpload.class);
  /** Bytes of one staging buffer (two are allocated). */
  static final int STAGING_BYTES = 64 << 20;

  private final CudaContext ctx;
  private final CudaStream stream;
  private final DeviceBuffer arena;
  private final PinnedBuffer[] staging = new PinnedBuffer[2];
  private int current;
  private long stagedTo = -1; // arena offset of the current buffer's first byte; -1 while it is empty
  private long uploaded;
  private long total;
  private int nextTenth = 1;

  private CheckpointUpload(CudaContext ctx, CudaStream stream, DeviceBuffer arena) {
    this.ctx = ctx;
    this.stream = stream;
    this.arena = arena;
  }

  /** Uploads every tensor of {@code layout} from {@code checkpoint} into {@code arena}; returns when it is there. */
  static void upload(CudaContext ctx, CudaStream stream, WeightLayout layout, CheckedCheckpoint checkpoint,
      DeviceBuffer arena) {
    CheckpointUpload up = new CheckpointUpload(ctx, stream, arena);
    for (WeightLayout.Tensor t : layout.tensors()) up.total += t.elements() * WeightLayout.ELEMENT_BYTES;
    try {
      up.staging[0] = PinnedBuffer.allocate(ctx, STAGING_BYTES);
      up.staging[1] = PinnedBuffer.allocate(ctx, STAGING_BYTES);
      for (WeightLayout.Tensor t : layout.tensors()) {
        CheckedCheckpoint.Tensor source = checkpoint.tensor(t.kind().tensor(), Math.max(0, t.layer()));
        try {
          up.tensor(t, MappedTensor.map(source));
        } catch (RuntimeException e) {
          throw new IllegalStateException("uploading " + source.weight().name() + " from " + source.weight().file()
              + " to " + ctx.gpu().label() + ": " + e.getMessage(), e);
        }
      }
      stream.synchronize("uploading " + layout.tensors().size() + " checkpoint tensors");
      LOG.info("{}: uploaded {} of checkpoint {}", ctx.gpu().label(), mb(up.total), checkpoint.directory());
    } finally {
      for (PinnedBuffer b : up.staging) {
        if (b != null) b.close(); // after the synchronisation above, or after a failure that ends the load
      }
    }
  }

  /** The tensor's window of the mapped source, run by run, into the arena from {@code t.byteOffset()}. */
  private void tensor(WeightLayout.Tensor t, MappedTensor source) {
    TensorShard.Window w = t.window();
    long to = t.byteOffset();
    if (w.cols() == 0) {
      stage(source, w.base(), t.elements(), to);
    } else {
      // A rank's column slice: `cols` elements of each row, packed row after row on the device.
      long rows = t.elements() / w.cols();
      for (long r = 0; r < rows; r++) {
        stage(source, w.base() + r * w.rowStride(), w.cols(), to + r * w.cols() * WeightLayout.ELEMENT_BYTES);
      }
    }
    flush();
  }

  /** Elements [first, first + count) of the source as bf16 at arena offset {@code to}, via the staging buffers. */
  private void stage(MappedTensor source, long first, long count, long to) {
    while (count > 0) {
      if (stagedTo >= 0 && stagedTo + staging[current].bytes().position() != to) {
        flush(); // not contiguous with what is staged
      }
      ByteBuffer buf = staging[current].bytes(); // after any flush: the buffer to fill now
      if (stagedTo < 0) {
        buf.clear();
        stagedTo = to;
      }
      long n = Math.min(count, buf.remaining() / WeightLayout.ELEMENT_BYTES);
      if (source.entry().dtype() == TensorDtype.BF16) {
        source.copyBytes(first, n, buf);
      } else {
        for (long i = 0; i < n; i++) buf.putShort(Bf16.fromFloat(source.get(first + i)));
      }
      first += n;
      count -= n;
      to += n * WeightLayout.ELEMENT_BYTES;
      if (!buf.hasRemaining()) flush();
    }
  }

  /** Enqueues the current buffer's copy (after the other buffer's finished) and switches buffers. */
  private void flush() {
    ByteBuffer buf = staging[current].bytes();
    if (stagedTo < 0 || buf.position() == 0) {
      stagedTo = -1;
      return;
    }
    int bytes = buf.position();
    stream.synchronize("the previous staged checkpoint copy");
    staging[current].copyTo(arena, stagedTo, bytes, stream);
    current ^= 1;
    stagedTo = -1;
    uploaded += bytes;
    if (uploaded * 10 >= nextTenth * total && total > 0) {
      LOG.info("{}: checkpoint upload {} of {} ({}%)", ctx.gpu().label(), mb(uploaded), mb(total),
          uploaded * 100 / total);
      while (nextTenth * total <= uploaded * 10) nextTenth++;
    }
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }
}
