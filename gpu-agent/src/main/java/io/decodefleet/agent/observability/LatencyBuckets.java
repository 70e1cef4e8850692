package io.decodefleet.agent.observability;

/**
 * Upper bounds (seconds) of the classic histogram buckets. The request latencies take vLLM's bounds
 * (so its dashboards' quantiles read alike) with finer ones below them, where GPU decode lives.
 */
public final class LatencyBuckets {
  private LatencyBuckets() {}

  /** Time to first token: vLLM's bounds, from 1 ms to 2560 s. */
  public static final double[] TIME_TO_FIRST_TOKEN = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
      0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};

  /** Inter-token latency and time per output token: vLLM's bounds with 1, 2.5 and 5 ms below them. */
  public static final double[] INTER_TOKEN = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
      0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};

  /** End-to-end latency and queue time: vLLM's bounds with 1 ms to 0.1 s below them. */
  public static final double[] REQUEST = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5,
      5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

  /** One engine step: 100 µs (a GPU decode graph replay) to 5 s (a long CPU prefill). */
  public static final double[] STEP = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25, 0.5, 1.0, 2.5, 5.0};

  /** The device's idle time between two steps: 1 µs to 0.1 s. */
  public static final double[] IDLE_GAP = {0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001,
      0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1};

  /** One side of a KV transfer (device time): 100 µs to 10 s. */
  public static final double[] KV_TRANSFER = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1, 0.25, 0.5, 1.0, 2.5, 10.0};
}
