package io.decodefleet.coordinator.workload;

import java.util.random.RandomGenerator;

/**
 * When the requests of an open-loop benchmark are released, as offsets from the start of the run.
 *
 * <p>A closed-loop cap ({@code --max-concurrency}) is not an arrival process: the coordinator
 * applies it at release time, holding a request back until a slot frees up.
 */
public sealed interface ArrivalProcess {

  /**
   * The release times of {@code n} requests, in nanoseconds from the start of the run,
   * non-decreasing. {@link AllAtOnce} starts at 0; {@link Rate} starts one random gap after 0.
   *
   * @return {@code long[n]}, nanoseconds
   */
  long[] offsetsNanos(int n, RandomGenerator rng);

  /** Every request at offset 0: the offline-throughput setting ({@code --request-rate inf}). */
  record AllAtOnce() implements ArrivalProcess {
    @Override
    public long[] offsetsNanos(int n, RandomGenerator rng) {
      requireCount(n);
      return new long[n];
    }
  }

  /**
   * Open-loop arrivals at {@code requestsPerSecond} on average, with gamma-distributed gaps as in
   * vLLM's {@code --request-rate R --burstiness B}: shape B, scale 1/(R·B), so the mean gap is 1/R
   * and the gaps' squared coefficient of variation is 1/B. B = 1 is a Poisson process (exponential
   * gaps); B &lt; 1 is burstier, B &gt; 1 more regular.
   *
   * <p>Offset i is the sum of gaps 0..i: the first request arrives one gap after the start (not
   * at 0), so n requests span about n/R seconds. Unlike vLLM, the offsets are not rescaled to end
   * exactly at n/R: that would change the gaps' distribution for small n.
   */
  record Rate(double requestsPerSecond, double burstiness) implements ArrivalProcess {
    public Rate {
      if (!(requestsPerSecond > 0) || !Double.isFinite(requestsPerSecond)) {
        throw new IllegalArgumentException("request rate must be a finite number > 0 per second, got " + requestsPerSecond);
      }
      if (!(burstiness > 0) || !Double.isFinite(burstiness)) {
        throw new IllegalArgumentException("burstiness must be a finite number > 0, got " + burstiness);
      }
    }

    /** A Poisson process: exponential gaps (burstiness 1). */
    public static Rate poisson(double requestsPerSecond) {
      return new Rate(requestsPerSecond, 1.0);
    }

    @Override
    public long[] offsetsNanos(int n, RandomGenerator rng) {
      requireCount(n);
      double scale = 1.0 / (requestsPerSecond * burstiness);
      long[] offsets = new long[n];
      double seconds = 0;
      for (int i = 0; i < n; i++) {
        // Summed in seconds and rounded once per offset, so rounding never accumulates; rounding is
        // monotone, so the offsets stay non-decreasing.
        seconds += GammaDistribution.sample(burstiness, scale, rng);
        offsets[i] = Math.round(seconds * 1e9);
      }
      return offsets;
    }
  }

  private static void requireCount(int n) {
    if (n < 0) throw new IllegalArgumentException("number of requests must be >= 0, got " + n);
  }
}
