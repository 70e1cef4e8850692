package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.nccl.Nccl.DataType;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One measured point of {@code gpu-agent bench nccl}.
 *
 * @param op {@code send_recv} (first GPU sends, second receives) or {@code all_reduce} (sum, in
 *     place, over every GPU listed)
 * @param gpus the CUDA ordinals taking part, rank order
 * @param bytes message size: bytes sent, or the all-reduced buffer's bytes
 * @param iters operations enqueued between one pair of CUDA events
 * @param timeUs one operation's time: per rank, the median over repetitions of (event time /
 *     iters); then the slowest rank
 * @param rankUs each taking part rank's median, in {@code gpus} order
 */
public record NcclBenchPoint(
    String op, DataType dtype, List<Integer> gpus, long bytes, int iters, double timeUs,
    List<Double> rankUs) {

  public static final String SEND_RECV = "send_recv";
  public static final String ALL_REDUCE = "all_reduce";

  public NcclBenchPoint {
    gpus = List.copyOf(gpus);
    rankUs = List.copyOf(rankUs);
  }

  public long count() {
    return bytes / dtype.bytes();
  }

  /** Algorithm bandwidth, GB/s (1e9 bytes/s): bytes / time. */
  public double algbwGbps() {
    return bytes / timeUs / 1e3;
  }

  /**
   * Bus bandwidth, GB/s, as nccl-tests defines it: algbw x 2(n-1)/n for all-reduce (what each
   * link carries in a ring, comparable across rank counts), algbw for send/recv.
   */
  public double busbwGbps() {
    return algbwGbps() * busFactor(op, gpus.size());
  }

  public static double busFactor(String op, int ranks) {
    return ALL_REDUCE.equals(op) ? 2.0 * (ranks - 1) / ranks : 1.0;
  }

  /** {@code 0->1} for send/recv, {@code 0,1} for all-reduce. */
  public String gpusText() {
    String sep = SEND_RECV.equals(op) ? "->" : ",";
    return gpus.stream().map(String::valueOf).collect(Collectors.joining(sep));
  }

  /** This point as one JSON object (the same fields the PyTorch reference script writes). */
  public String toJson() {
    String ranks = rankUs.stream().map(v -> String.format(Locale.ROOT, "%.3f", v))
        .collect(Collectors.joining(", "));
    String gpuList = gpus.stream().map(String::valueOf).collect(Collectors.joining(", "));
    return String.format(Locale.ROOT,
        "{\"op\": \"%s\", \"dtype\": \"%s\", \"gpus\": [%s], \"bytes\": %d, \"count\": %d,"
            + " \"iters\": %d, \"time_us\": %.3f, \"algbw_gb_per_s\": %.3f,"
            + " \"busbw_gb_per_s\": %.3f, \"rank_us\": [%s]}",
        op, dtype, gpuList, bytes, count(), iters, timeUs, algbwGbps(), busbwGbps(), ranks);
  }
}
