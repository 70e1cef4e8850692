package io.decodefleet.coordinator.soak;

import io.decodefleet.coordinator.soak.SoakRequest.Protocol;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The soak's requests counted: sent, completed exactly once, lost, duplicated, different from the reference. */
final class RequestTally {
  static final int EXAMPLES = 5;
  /** Longest retry reason kept as a group, characters (reasons hold details that vary little). */
  static final int REASON_CHARS = 120;

  private RequestTally() {}

  /**
   * @param reference the reference tokens by shape index (a shape missing from it makes its requests
   *     mismatched: they cannot be shown right)
   * @param referenceRequests requests the reference run sent
   */
  static SoakResult.Requests of(List<RequestRecord> records, Map<Integer, int[]> reference, int referenceRequests) {
    int grpc = 0;
    int completed = 0;
    int lost = 0;
    int duplicated = 0;
    int mismatched = 0;
    int retried = 0;
    int attempts = 0;
    long migrations = 0;
    Map<String, Integer> reasons = new LinkedHashMap<>();
    List<String> lostExamples = new ArrayList<>();
    for (RequestRecord r : records) {
      if (r.request.protocol() == Protocol.GRPC) grpc++;
      attempts += r.attempts();
      if (r.attempts() > 1) retried++;
      if (r.duplicated()) duplicated++;
      migrations += r.migrations();
      for (String reason : r.retries()) {
        String group = reason.length() <= REASON_CHARS ? reason : reason.substring(0, REASON_CHARS) + "...";
        reasons.merge(group, 1, Integer::sum);
      }
      if (r.completions() == 1) {
        completed++;
        if (!Arrays.equals(reference.get(r.request.shape().index()), r.tokens())) mismatched++;
      } else {
        lost++;
        if (lostExamples.size() < EXAMPLES) lostExamples.add("request " + r.request.id() + " (" + r.request.protocol().label
            + "): " + r.failure());
      }
    }
    List<SoakResult.ReasonCount> byCount = reasons.entrySet().stream()
        .map(e -> new SoakResult.ReasonCount(e.getKey(), e.getValue()))
        .sorted(Comparator.comparingInt(SoakResult.ReasonCount::count).reversed()).toList();
    return new SoakResult.Requests(referenceRequests, records.size(), grpc, records.size() - grpc, completed, lost,
        duplicated, mismatched, retried, attempts, migrations, byCount, List.copyOf(lostExamples));
  }
}
