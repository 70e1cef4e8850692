package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.TensorDtype;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.cuda.Bf16;
import java.nio.ByteBuffer;

/**
 * The host half of a checkpoint upload, free of CUDA so that it is tested without a GPU: each
 * tensor's window of its mapped source, as bf16, packed into two staging buffers in turn, each handed
 * to a {@link Copier} when it is full, when the next bytes are not contiguous on the device, or when
 * the tensor ends. A BF16 source's bytes are copied as they are; F16 and F32 are rounded to bf16.
 *
 * <p>Buffers alternate 0, 1, 0, … and the copier is called before the next buffer is filled: a
 * copier that waits for the previous copy before it enqueues its own (as {@link CheckpointUpload}'s
 * does) has the buffer about to be filled free, while the other buffer's copy runs.
 */
final class WeightStaging {

  /** Copies buffer {@code buffer}'s first {@code bytes} bytes to arena offset {@code arenaOffset}. */
  interface Copier {
    void copy(int buffer, long arenaOffset, int bytes);
  }

  private final ByteBuffer[] buffers;
  private final Copier copier;
  private int current;
  private long stagedTo = -1; // arena offset of the current buffer's first byte; -1 while it is empty

  /** @param buffers two buffers of an even capacity, little-endian */
  WeightStaging(ByteBuffer[] buffers, Copier copier) {
    if (buffers.length != 2 || buffers[0].capacity() < 2 || buffers[0].capacity() % 2 != 0
        || buffers[1].capacity() != buffers[0].capacity()) {
      throw new IllegalArgumentException("two staging buffers of one even capacity are needed");
    }
    this.buffers = buffers;
    this.copier = copier;
  }

  /** The tensor's window of {@code source}, run by run, into the arena from {@code t.byteOffset()}, then flushed. */
  void tensor(WeightLayout.Tensor t, MappedTensor source) {
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

  /** Elements [first, first + count) of the source as bf16 at arena offset {@code to}. */
  private void stage(MappedTensor source, long first, long count, long to) {
    while (count > 0) {
      if (stagedTo >= 0 && stagedTo + buffers[current].position() != to) {
        flush(); // not contiguous with what is staged
      }
      ByteBuffer buf = buffers[current]; // after any flush: the buffer to fill now
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

  /** Hands the current buffer to the copier and switches buffers; nothing when it is empty. */
  void flush() {
    ByteBuffer buf = buffers[current];
    if (stagedTo >= 0 && buf.position() > 0) {
      copier.copy(current, stagedTo, buf.position());
      current ^= 1;
    }
    stagedTo = -1;
  }
}
