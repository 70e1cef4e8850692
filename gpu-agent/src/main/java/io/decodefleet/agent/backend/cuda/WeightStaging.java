package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.TensorDtype;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.reference.Fp8E4m3;
import java.nio.ByteBuffer;

/**
 * The host half of a checkpoint upload, free of CUDA so that it is tested without a GPU: each
 * tensor's window of its mapped source, as bf16, packed into two staging buffers in turn, each handed
 * to a {@link Copier} when it is full, when the next bytes are not contiguous on the device, or when
 * the tensor ends. A BF16 source's bytes are copied as they are; F16 and F32 are rounded to bf16.
 *
 * <p>An FP8 tensor of the layout: an F8_E4M3 source's codes are copied as they are and its
 * weight_scale (per tensor or per output channel) becomes the row scales; any other source is
 * quantized here as the CPU backend's {@code --quantization fp8} does (HostWeights): one scale for
 * the full tensor, its largest magnitude over 448 (a first pass over the mapped tensor), each
 * element {@code e4m3(v / scale)}.
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

  /** @param buffers two buffers of one even capacity of at least 4 bytes, little-endian */
  WeightStaging(ByteBuffer[] buffers, Copier copier) {
    if (buffers.length != 2 || buffers[0].capacity() < 4 || buffers[0].capacity() % 2 != 0
        || buffers[1].capacity() != buffers[0].capacity()) {
      throw new IllegalArgumentException("two staging buffers of one even capacity of at least 4 bytes are needed");
    }
    this.buffers = buffers;
    this.copier = copier;
  }

  /** The tensor's window of {@code source}, run by run, into the arena from {@code t.byteOffset()}, then flushed. */
  void tensor(WeightLayout.Tensor t, MappedTensor source) {
    TensorShard.Window w = t.window();
    long to = t.byteOffset();
    boolean codes = source.entry().dtype() == TensorDtype.F8_E4M3;
    float quantScale = t.fp8() && !codes ? tensorScale(source) : Float.NaN;
    Elements elements;
    if (!t.fp8()) {
      if (codes) throw new IllegalArgumentException(source.entry() + " is FP8 where the layout holds bf16");
      elements = new Elements(WeightLayout.ELEMENT_BYTES, source.entry().dtype() == TensorDtype.BF16
          ? (first, n, buf) -> source.copyBytes(first, n, buf)
          : (first, n, buf) -> {
            for (long i = 0; i < n; i++) buf.putShort(Bf16.fromFloat(source.get(first + i)));
          });
    } else {
      elements = new Elements(WeightLayout.FP8_ELEMENT_BYTES, codes
          ? (first, n, buf) -> source.copyBytes(first, n, buf)
          : (first, n, buf) -> {
            for (long i = 0; i < n; i++) buf.put(Fp8E4m3.encode(source.get(first + i) / quantScale));
          });
    }
    if (w.cols() == 0) {
      stage(elements, w.base(), t.elements(), to);
    } else {
      // A rank's column slice: `cols` elements of each row, packed row after row on the device.
      long rows = t.elements() / w.cols();
      for (long r = 0; r < rows; r++) {
        stage(elements, w.base() + r * w.rowStride(), w.cols(), to + r * w.cols() * elements.bytes());
      }
    }
    if (t.fp8()) {
      // Row r here is row (first row of the window) + r of the full tensor: a column slice has every row.
      long firstRow = w.cols() == 0 ? w.base() / t.cols() : 0;
      Elements scales = new Elements(Float.BYTES, (first, n, buf) -> {
        for (long r = first; r < first + n; r++) buf.putFloat(codes ? source.rowScale(firstRow + r) : quantScale);
      });
      stage(scales, 0, t.rows(), t.scaleOffset());
    }
    flush();
  }

  /** Fp8E4m3.scaleFor over the whole mapped tensor, without copying it. */
  static float tensorScale(MappedTensor source) {
    float amax = 0f;
    for (long i = 0, n = source.entry().elements(); i < n; i++) {
      float v = source.get(i);
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(source.entry() + ": element " + i + " is " + v + ": cannot quantize to FP8");
      }
      amax = Math.max(amax, Math.abs(v));
    }
    return amax == 0f ? 1f : amax / Fp8E4m3.MAX;
  }

  /** How a run of elements is written into a staging buffer: bytes per element, and the writer. */
  private record Elements(int bytes, Writer writer) {}

  private interface Writer {
    void put(long first, long count, ByteBuffer buf);
  }

  /** Elements [first, first + count) of the source, as {@code e} writes them, at arena offset {@code to}. */
  private void stage(Elements e, long first, long count, long to) {
    while (count > 0) {
      if (stagedTo >= 0 && stagedTo + buffers[current].position() != to) {
        flush(); // not contiguous with what is staged
      }
      ByteBuffer buf = buffers[current]; // after any flush: the buffer to fill now
      if (stagedTo < 0) {
        buf.clear();
        stagedTo = to;
      }
      if (buf.remaining() < e.bytes()) {
        flush(); // no room for a whole element (a float after an odd number of bf16)
        continue;
      }
      long n = Math.min(count, buf.remaining() / e.bytes());
      e.writer().put(first, n, buf);
      first += n;
      count -= n;
      to += n * e.bytes();
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
