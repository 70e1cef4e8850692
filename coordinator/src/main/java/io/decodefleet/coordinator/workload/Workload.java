package io.decodefleet.coordinator.workload;

import java.util.List;

/**
 * A benchmark's requests as they will run, after the {@link
 * io.decodefleet.coordinator.admission.LengthLimit}: those kept, in release order, and how many were
 * left out as over the limit (only with {@link io.decodefleet.coordinator.admission.OverlengthPolicy#SKIP}).
 *
 * @param drawn requests the workload had before any was left out (a trace's rows replayed, a
 *     generated workload's requests and turns)
 */
public record Workload(List<RequestSpec> requests, int skipped, int drawn) {
  public Workload {
    requests = List.copyOf(requests);
    if (skipped < 0 || drawn != requests.size() + skipped) {
      throw new IllegalArgumentException(drawn + " requests drawn, " + requests.size() + " kept, " + skipped
          + " skipped do not add up");
    }
  }

  /** Every request kept. */
  public static Workload of(List<RequestSpec> requests) {
    return new Workload(requests, 0, requests.size());
  }
}
