package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The workload both the CLI and the API build: defaults that parse, and the generator's requests. */
class WorkloadSpecTest {

  private static WorkloadSpec defaults(int numRequests) {
    return new WorkloadSpec(numRequests, LengthDistribution.parse(WorkloadSpec.DEFAULT_PROMPT_LEN),
        LengthDistribution.parse(WorkloadSpec.DEFAULT_OUTPUT_LEN), new ArrivalProcess.AllAtOnce(), 0);
  }

  @Test
  void defaultLengthsGiveRequestsWithinTheirRanges() {
    List<RequestSpec> requests = defaults(WorkloadSpec.DEFAULT_NUM_REQUESTS).requests(1024, 2048, 7);
    assertEquals(64, requests.size());
    for (RequestSpec r : requests) {
      assertTrue(r.promptTokens().length >= 32 && r.promptTokens().length <= 256, r.toString());
      assertTrue(r.maxTokens() >= 16 && r.maxTokens() <= 128, r.toString());
    }
  }

  @Test
  void requestsAreTheGeneratorsForTheSameSeed() {
    WorkloadSpec spec = defaults(5);
    List<RequestSpec> direct = WorkloadGenerator.generate(5, spec.arrivals(), spec.promptLen(), spec.outputLen(), 1024,
        2048, 3);
    List<RequestSpec> viaSpec = spec.requests(1024, 2048, 3);
    for (int i = 0; i < 5; i++) {
      assertEquals(direct.get(i).maxTokens(), viaSpec.get(i).maxTokens());
      assertEquals(List.of(direct.get(i).promptTokens().length), List.of(viaSpec.get(i).promptTokens().length));
    }
  }

  @Test
  void noRequestsOrNegativeConcurrencyIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> defaults(0));
    assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(1, new LengthDistribution.Fixed(4),
        new LengthDistribution.Fixed(4), new ArrivalProcess.AllAtOnce(), -1));
  }
}
