package io.decodefleet.agent.engine;

import java.util.HashMap;
import java.util.Map;

/**
 * When each sequence of one engine was handed to it, started its first scheduled step and ended the
 * step of its first token, on one clock: its queue time (vLLM's: hand-over to first step) and its
 * prefill time (first step's start to the end of the step of its first token). The engine and the
 * simulated agent keep them alike. A sequence never handed over here (its KV arrived from another
 * agent) has neither.
 */
public final class SequenceTimes {

  /** Queue and prefill times in nanoseconds; -1 where not measured. */
  public record Spent(long queueNanos, long prefillNanos) {
    public static final Spent UNKNOWN = new Spent(-1, -1);
  }

  private static final class Times {
    final long submitted;
    long firstStep = -1;
    long firstToken = -1;

    Times(long submitted) {
      this.submitted = submitted;
    }
  }

  private final Map<Long, Times> times = new HashMap<>();

  public void submitted(long id, long nanos) {
    times.put(id, new Times(nanos));
  }

  /** Sequence {@code id} is in a step starting at {@code nanos}; only its first start counts (not a resumption). */
  public void scheduled(long id, long nanos) {
    Times t = times.get(id);
    if (t != null && t.firstStep < 0) t.firstStep = nanos;
  }

  /** Sequence {@code id} produced a token in a step ending at {@code nanos}; only its first token counts. */
  public void produced(long id, long nanos) {
    Times t = times.get(id);
    if (t != null && t.firstStep >= 0 && t.firstToken < 0) t.firstToken = nanos;
  }

  /** Forgets sequence {@code id} and says what it spent. */
  public Spent remove(long id) {
    Times t = times.remove(id);
    if (t == null) return Spent.UNKNOWN;
    return new Spent(t.firstStep < 0 ? -1 : t.firstStep - t.submitted,
        t.firstToken < 0 ? -1 : t.firstToken - t.firstStep);
  }

  public void clear() {
    times.clear();
  }
}
