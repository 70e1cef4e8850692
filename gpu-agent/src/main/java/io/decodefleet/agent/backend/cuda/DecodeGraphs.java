package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaGraph;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.engine.BatchBuckets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * One captured CUDA graph per decode batch bucket (1, 2, 4, 8, 16, 24, 32, then steps of 16 up to
 * the largest bucket), each a whole decode step from embedding to argmax over the bucket's rows.
 * Captured once, largest bucket first (the largest graph's memory is reserved first, so smaller
 * ones cannot fragment it); a step of {@code n} sequences replays the graph of {@code bucketOf(n)}
 * with its rows past {@code n} padded.
 */
final class DecodeGraphs implements AutoCloseable {

  /**
   * What capturing cost.
   *
   * @param buckets the captured buckets, in capture order
   * @param millis wall time of warm-up runs, captures and instantiations together
   * @param bytes device memory the graphs took (free memory before minus after)
   */
  record CaptureReport(List<Integer> buckets, long millis, long bytes) {
    String describe() {
      return String.format("captured %d decode graphs (buckets %s) in %d ms, %.1f MiB of device memory",
          buckets.size(), buckets, millis, bytes / 1048576.0);
    }
  }

  private final Map<Integer, CudaGraph> graphs = new TreeMap<>();
  private CaptureReport report = new CaptureReport(List.of(), 0, 0);

  /** The buckets up to and including {@code bucketOf(maxBatch)}, largest first. */
  static List<Integer> bucketsLargestFirst(int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
    }
    List<Integer> out = new ArrayList<>();
    int top = BatchBuckets.bucketOf(maxBatch);
    for (int b = 1; b <= top; b++) {
      if (BatchBuckets.bucketOf(b) == b) {
        out.add(0, b);
      }
    }
    return out;
  }

  /**
   * Captures every bucket up to {@code maxBatch}, largest first.
   *
   * @param warmUpAndBody for a bucket, the enqueueing of its step (run once eagerly and
   *     synchronised before the capture, so a launch error surfaces with its own message)
   */
  void captureAll(CudaContext ctx, CudaStream stream, int maxBatch, IntFunction<Runnable> warmUpAndBody) {
    long free0 = ctx.memoryInfo()[0];
    long t0 = System.nanoTime();
    List<Integer> captured = new ArrayList<>();
    for (int bucket : bucketsLargestFirst(maxBatch)) {
      Runnable body = warmUpAndBody.apply(bucket);
      body.run();
      stream.synchronize("warm-up of the batch-" + bucket + " decode step");
      CudaGraph g = CudaGraph.captureOnThisThread(stream, body);
      graphs.put(bucket, g);
      g.launch(stream);
      stream.synchronize("first replay of the batch-" + bucket + " decode graph");
      captured.add(bucket);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    report = new CaptureReport(List.copyOf(captured), millis, Math.max(0, free0 - ctx.memoryInfo()[0]));
  }

  /** The graph of {@code bucket}, or null if none was captured for it. */
  CudaGraph forBucket(int bucket) {
    return graphs.get(bucket);
  }

  /** The largest captured bucket, 0 when none. */
  int largestBucket() {
    return graphs.isEmpty() ? 0 : ((TreeMap<Integer, CudaGraph>) graphs).lastKey();
  }

  CaptureReport report() {
    return report;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (CudaGraph g : graphs.values()) {
      try {
        g.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    graphs.clear();
    if (first != null) {
      throw first;
    }
  }
}
