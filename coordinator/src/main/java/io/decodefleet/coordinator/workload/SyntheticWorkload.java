package io.decodefleet.coordinator.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random prompts of random lengths, all arriving at once: the default workload. Seeded, so the same
 * seed gives the same requests (and, with greedy decoding, the same output tokens).
 */
public final class SyntheticWorkload {
  private SyntheticWorkload() {}

  public static List<RequestSpec> generate(int numRequests, LengthRange promptLen, LengthRange outputLen, int vocabSize,
      long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<RequestSpec> requests = new ArrayList<>(numRequests);
    for (int i = 0; i < numRequests; i++) {
      int[] prompt = new int[promptLen.sample(rng)];
      for (int t = 0; t < prompt.length; t++) prompt[t] = rng.nextInt(vocabSize);
      requests.add(new RequestSpec(i, 0L, prompt, outputLen.sample(rng)));
    }
    return requests;
  }
}
