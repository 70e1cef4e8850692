package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LengthDistributionTest {
  private static final int SAMPLES = 20_000;

  private static int[] draw(LengthDistribution d, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int[] xs = new int[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) xs[i] = d.sample(rng);
    return xs;
  }

  @Test
  void fixedAlwaysGivesItsLength() {
    LengthDistribution d = new LengthDistribution.Fixed(128);
    assertTrue(Arrays.stream(draw(d, 1)).allMatch(x -> x == 128));
    assertEquals(128.0, d.mean());
  }

  @Test
  void uniformCoversBothEndsWithTheMidpointMean() {
    LengthDistribution d = new LengthDistribution.Uniform(32, 256);
    int[] xs = draw(d, 2);
    assertEquals(32, Arrays.stream(xs).min().getAsInt());
    assertEquals(256, Arrays.stream(xs).max().getAsInt());
    assertEquals(144.0, d.mean());
    // sd of one sample ≈ 64.9, of the mean of 20k ≈ 0.46
    assertEquals(144.0, Arrays.stream(xs).average().getAsDouble(), 2.0);
  }

  @Test
  void logNormalHasTheGivenMeanAndSigmaOfTheLog() {
    LengthDistribution.LogNormal d = new LengthDistribution.LogNormal(200, 0.8);
    int[] xs = draw(d, 3);
    double mean = Arrays.stream(xs).average().getAsDouble();
    // sd of one sample = 200 * sqrt(e^0.64 - 1) ≈ 189, of the mean of 20k ≈ 1.3
    assertEquals(200.0, mean, 6.0);
    // The median is exp(mu) = 200 * e^-0.32 ≈ 145.2: it would be 200 if mu were ln(mean).
    int[] sorted = xs.clone();
    Arrays.sort(sorted);
    assertEquals(145.2, sorted[SAMPLES / 2], 4.0);
    double logMean = Arrays.stream(xs).mapToDouble(Math::log).average().getAsDouble();
    double logVar = Arrays.stream(xs).mapToDouble(x -> Math.pow(Math.log(x) - logMean, 2)).sum() / (SAMPLES - 1);
    assertEquals(0.64, logVar, 0.03);
    assertEquals(200.0, d.mean());
  }

  @Test
  void logNormalNeverGivesLessThanOneToken() {
    int[] xs = draw(new LengthDistribution.LogNormal(1.0, 2.0), 4);
    assertEquals(1, Arrays.stream(xs).min().getAsInt());
  }

  @Test
  void parsesEachForm() {
    assertEquals(new LengthDistribution.Fixed(128), LengthDistribution.parse("128"));
    assertEquals(new LengthDistribution.Uniform(32, 256), LengthDistribution.parse(" 32:256 "));
    assertEquals(new LengthDistribution.LogNormal(200, 0.8), LengthDistribution.parse("lognormal:200:0.8"));
    assertEquals(new LengthDistribution.LogNormal(200, 0.8), LengthDistribution.parse("LogNormal:200.0:0.8"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"128", "32:256", "7:7", "lognormal:200:0.8", "lognormal:12.5:0"})
  void toStringParsesBackToTheSameDistribution(String text) {
    LengthDistribution d = LengthDistribution.parse(text);
    assertEquals(text, d.toString());
    assertEquals(d, LengthDistribution.parse(d.toString()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "0", "-3", "256:32", "1:2:3", "gamma:1:2", "lognormal:200", "lognormal:-1:0.5",
      "lognormal:200:-0.1", "lognormal:NaN:1", "lognormal:200:x", "99999999999"})
  void rejectsBadTextWithOneLineNamingItAndTheForms(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LengthDistribution.parse(text));
    assertTrue(e.getMessage().startsWith("'" + text + "' is not a length distribution"), e.getMessage());
    assertTrue(e.getMessage().endsWith("expected N, MIN:MAX or lognormal:MEAN:SIGMA"), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
  }
}
