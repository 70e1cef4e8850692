package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shared-prefix workload: every prompt starts with one of N prefixes, then tokens of its own. */
class SharedPrefixesTest {

  private static List<RequestSpec> generate(SharedPrefixes prefixes, long seed) {
    return WorkloadGenerator.generate(200, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Fixed(20),
        new LengthDistribution.Fixed(8), prefixes, 1000, 2048, seed);
  }

  @Test
  void everyPromptIsOneOfTheSharedPrefixesThenItsOwnTokens() {
    List<RequestSpec> requests = generate(new SharedPrefixes(4, 64), 3);
    Set<String> prefixes = new HashSet<>();
    for (RequestSpec r : requests) {
      assertEquals(84, r.promptTokens().length);
      assertEquals(8, r.maxTokens());
      prefixes.add(Arrays.toString(Arrays.copyOf(r.promptTokens(), 64)));
    }
    assertEquals(4, prefixes.size(), "200 requests drew each of the 4 prefixes");
    assertArrayEquals(requests.get(7).promptTokens(), generate(new SharedPrefixes(4, 64), 3).get(7).promptTokens());
  }

  @Test
  void withoutPrefixesTheWorkloadIsTheOneItAlwaysWas() {
    List<RequestSpec> plain = WorkloadGenerator.generate(50, new ArrivalProcess.AllAtOnce(),
        new LengthDistribution.Fixed(20), new LengthDistribution.Fixed(8), 1000, 2048, 9);
    List<RequestSpec> none = generate(SharedPrefixes.NONE, 9).subList(0, 50);
    for (int i = 0; i < 50; i++) assertArrayEquals(plain.get(i).promptTokens(), none.get(i).promptTokens());
  }

  @Test
  void aPrefixThatLeavesNoRoomIsRefusedAndHalfASpecIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> generate(new SharedPrefixes(2, 2047), 1));
    assertThrows(IllegalArgumentException.class, () -> new SharedPrefixes(2, 0));
    assertThrows(IllegalArgumentException.class, () -> new SharedPrefixes(0, 16));
    assertTrue(SharedPrefixes.NONE.none());
  }
}
