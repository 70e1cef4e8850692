package io.decodefleet.coordinator.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The one place request fields are checked and defaulted, for the HTTP and the gRPC API. */
class GenerationFieldsTest {
  private static final ModelLimits LIMITS = new ModelLimits("tiny", 1024, 100, new int[] {257}, 16);

  private static GenerationFields fields(Integer maxTokens, Double temperature, Boolean ignoreEos, Integer minTokens) {
    return new GenerationFields(maxTokens, temperature, null, null, 5L, List.of(3), ignoreEos, minTokens, null, null);
  }

  @Test
  void defaultsAreGreedyEosStopsAndTheDefaultMaxTokensCappedByTheContextLeft() {
    GenerationRequest r = GenerationFields.DEFAULTS.toRequest(new int[10], LIMITS);
    assertEquals(16, r.maxTokens());
    assertTrue(r.sampling().greedy());
    assertArrayEquals(new int[] {257}, r.sampling().stopTokenIds());
    assertEquals(4, GenerationFields.DEFAULTS.toRequest(new int[96], LIMITS).maxTokens(), "100 - 96 left");
    assertTrue(r.skipSpecialTokens());
  }

  @Test
  void stopIdsJoinEosUnlessEosIsIgnored() {
    assertArrayEquals(new int[] {3, 257}, fields(8, 0.5, null, 2).toRequest(new int[4], LIMITS).sampling().stopTokenIds());
    assertArrayEquals(new int[] {3}, fields(8, 0.5, true, 2).toRequest(new int[4], LIMITS).sampling().stopTokenIds());
  }

  @Test
  void aSeedlessRequestGetsARandomSeedAndAGivenSeedIsKept() {
    GenerationFields seedless = new GenerationFields(4, 1.0, null, null, null, null, null, null, null, null);
    long a = seedless.toRequest(new int[4], LIMITS).sampling().seed();
    long b = seedless.toRequest(new int[4], LIMITS).sampling().seed();
    assertTrue(a != b, "two seedless requests drew the same seed " + a);
    assertEquals(5L, fields(4, 1.0, null, null).toRequest(new int[4], LIMITS).sampling().seed());
  }

  @Test
  void whatCannotBeServedIsRefusedNamingTheFieldNeverCut() {
    assertEquals("max_tokens", assertThrows(InvalidField.class,
        () -> fields(97, null, null, null).toRequest(new int[4], LIMITS)).field());
    assertEquals("prompt", assertThrows(InvalidField.class,
        () -> GenerationFields.DEFAULTS.toRequest(new int[100], LIMITS)).field());
    assertEquals("prompt", assertThrows(InvalidField.class,
        () -> GenerationFields.DEFAULTS.toRequest(new int[] {1024}, LIMITS)).field());
    assertEquals("temperature", assertThrows(InvalidField.class,
        () -> fields(4, Double.NaN, null, null).toRequest(new int[4], LIMITS)).field());
    assertEquals("min_tokens", assertThrows(InvalidField.class,
        () -> fields(4, null, null, 5).toRequest(new int[4], LIMITS)).field());
    assertEquals("top_k", assertThrows(InvalidField.class, () -> new GenerationFields(4, null, null, -2, null, null,
        null, null, null, null).toRequest(new int[4], LIMITS)).field());
    assertEquals("stop_token_ids", assertThrows(InvalidField.class, () -> new GenerationFields(4, null, null, null,
        null, List.of(5000), null, null, null, null).toRequest(new int[4], LIMITS)).field());
    assertEquals("stop", assertThrows(InvalidField.class, () -> new GenerationFields(4, null, null, null, null, null,
        null, null, List.of(""), null).toRequest(new int[4], LIMITS)).field());
    assertEquals(0, new GenerationFields(4, null, null, -1, null, null, null, null, null, null)
        .toRequest(new int[4], LIMITS).sampling().topK(), "vLLM's -1 means no top-k cut");
  }

  @Test
  void onAFleetTheLargestKvPoolBoundsMaxTokensAndTheDefault() {
    // 4 blocks of 16 tokens: 64 tokens, below the context of 100.
    ModelLimits fleet = new ModelLimits(1024, new int[] {257}, 16, LIMITS.length().withKvPool(4, 16));
    InvalidField e = assertThrows(InvalidField.class, () -> fields(30, null, null, null).toRequest(new int[40], fleet));
    assertEquals("max_tokens", e.field());
    assertEquals("max_tokens: a 40-token prompt plus up to 30 output tokens needs 5 KV blocks of 16 tokens; the "
        + "largest agent's KV pool holds 4", e.getMessage());
    assertEquals(24, fields(24, null, null, null).toRequest(new int[40], fleet).maxTokens());
    assertEquals(8, GenerationFields.DEFAULTS.toRequest(new int[56], fleet).maxTokens(), "64 - 56 left");
    assertEquals("prompt", assertThrows(InvalidField.class,
        () -> GenerationFields.DEFAULTS.toRequest(new int[64], fleet)).field());
  }
}
