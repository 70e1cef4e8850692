package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkloadGeneratorTest {
  private static final ArrivalProcess POISSON = ArrivalProcess.Rate.poisson(20.0);
  private static final LengthDistribution PROMPT = LengthDistribution.parse("lognormal:64:0.6");
  private static final LengthDistribution OUTPUT = LengthDistribution.parse("8:32");

  /** RequestSpec holds an array, so compare a rendering of every field. */
  static List<String> render(List<RequestSpec> requests) {
    return requests.stream()
        .map(r -> r.requestId() + "@" + r.arrivalNanos() + " " + Arrays.toString(r.promptTokens()) + " -> " + r.maxTokens())
        .toList();
  }

  @Test
  void sameSeedGivesTheSameRequests() {
    List<RequestSpec> a = WorkloadGenerator.generate(50, POISSON, PROMPT, OUTPUT, 1000, 4096, 42);
    List<RequestSpec> b = WorkloadGenerator.generate(50, POISSON, PROMPT, OUTPUT, 1000, 4096, 42);
    assertEquals(render(a), render(b));
  }

  @Test
  void differentSeedGivesDifferentArrivalsLengthsAndTokens() {
    List<RequestSpec> a = WorkloadGenerator.generate(50, POISSON, PROMPT, OUTPUT, 1000, 4096, 42);
    List<RequestSpec> b = WorkloadGenerator.generate(50, POISSON, PROMPT, OUTPUT, 1000, 4096, 43);
    assertNotEquals(a.stream().map(RequestSpec::arrivalNanos).toList(), b.stream().map(RequestSpec::arrivalNanos).toList());
    assertNotEquals(a.stream().map(r -> r.promptTokens().length).toList(), b.stream().map(r -> r.promptTokens().length).toList());
    assertNotEquals(Arrays.toString(a.get(0).promptTokens()), Arrays.toString(b.get(0).promptTokens()));
  }

  @Test
  void changingTheArrivalProcessKeepsThePrompts() {
    List<RequestSpec> timed = WorkloadGenerator.generate(20, POISSON, PROMPT, OUTPUT, 1000, 4096, 5);
    List<RequestSpec> burst = WorkloadGenerator.generate(20, new ArrivalProcess.AllAtOnce(), PROMPT, OUTPUT, 1000, 4096, 5);
    for (int i = 0; i < 20; i++) {
      assertEquals(Arrays.toString(timed.get(i).promptTokens()), Arrays.toString(burst.get(i).promptTokens()));
      assertEquals(timed.get(i).maxTokens(), burst.get(i).maxTokens());
      assertEquals(0L, burst.get(i).arrivalNanos());
    }
  }

  @Test
  void idsFollowArrivalOrderAndTokensStayInTheVocabulary() {
    List<RequestSpec> requests = WorkloadGenerator.generate(200, POISSON, PROMPT, OUTPUT, 7, 4096, 9);
    for (int i = 0; i < requests.size(); i++) {
      RequestSpec r = requests.get(i);
      assertEquals(i, r.requestId());
      if (i > 0) assertTrue(r.arrivalNanos() >= requests.get(i - 1).arrivalNanos());
      assertTrue(Arrays.stream(r.promptTokens()).allMatch(t -> t >= 0 && t < 7));
    }
    // every id of a 7-token vocabulary shows up somewhere
    assertEquals(7, requests.stream().flatMapToInt(r -> Arrays.stream(r.promptTokens())).distinct().count());
  }

  @Test
  void aRequestOverTheContextIsRefusedNeverCut() {
    IllegalArgumentException longPrompt = assertThrows(IllegalArgumentException.class,
        () -> WorkloadGenerator.generate(1, new ArrivalProcess.AllAtOnce(), new LengthDistribution.Fixed(100),
            new LengthDistribution.Fixed(50), 1000, 64, 1));
    assertEquals("request 0: a 100-token prompt plus up to 50 output tokens exceeds the model's context of 64 tokens",
        longPrompt.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WorkloadGenerator.generate(1, new ArrivalProcess.AllAtOnce(),
        new LengthDistribution.Fixed(40), new LengthDistribution.Fixed(25), 1000, 64, 1));
    // exactly the context: untouched
    RequestSpec fits = WorkloadGenerator.generate(1, new ArrivalProcess.AllAtOnce(),
        new LengthDistribution.Fixed(40), new LengthDistribution.Fixed(24), 1000, 64, 1).get(0);
    assertEquals(40, fits.promptTokens().length);
    assertEquals(24, fits.maxTokens());
  }

  @Test
  void poissonWorkloadSpansAboutNOverRate() {
    List<RequestSpec> requests = WorkloadGenerator.generate(2000, POISSON, PROMPT, OUTPUT, 1000, 4096, 3);
    double lastSeconds = requests.get(requests.size() - 1).arrivalNanos() / 1e9;
    // 2000 exponential gaps of mean 0.05 s: sum 100 s, sd ≈ 2.2 s
    assertEquals(100.0, lastSeconds, 8.0);
  }
}
