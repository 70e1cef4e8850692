package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.grpc.Status;
import org.apache.pekko.grpc.GrpcServiceException;
import org.junit.jupiter.api.Test;

/** Requests the gRPC decoders once answered with an allocation or an exception other than INVALID_ARGUMENT. */
class ApiRequestsTest {
  private static final ModelLimits LIMITS = new ModelLimits("tiny", 1024, 2048, new int[] {257}, 16);
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 64, 16, 128, 0.0);
  private static final ModelConfig CONFIG = ModelConfig.preset("tiny");

  private static String invalid(Runnable decode) {
    Status status = assertThrows(GrpcServiceException.class, decode::run).status();
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
    return status.getDescription();
  }

  private static String invalid(BenchmarkRequest in) {
    return invalid(() -> ApiRequests.benchmark(in, MODEL, CONFIG, LIMITS, 2));
  }

  /** Regression: the random prompt of prompt_len tokens was allocated before its length was checked. */
  @Test
  void aPromptLenBeyondTheContextIsRefusedBeforeItsTokensAreDrawn() {
    GenerateRequest in = GenerateRequest.newBuilder().setPromptLen(Integer.MAX_VALUE).build();
    assertEquals("prompt_len: a 2147483647-token prompt plus 1 output token exceeds model tiny's context of 2048 "
        + "tokens", invalid(() -> ApiRequests.generation(in, LIMITS, new ByteTokenizer())));
    GenerateRequest atContext = GenerateRequest.newBuilder().setPromptLen(2048).setMaxTokens(4).build();
    assertEquals("prompt_len: a 2048-token prompt plus up to 4 output tokens exceeds model tiny's context of 2048 "
        + "tokens", invalid(() -> ApiRequests.generation(atContext, LIMITS, new ByteTokenizer())));
    assertEquals(2047, ApiRequests.generation(GenerateRequest.newBuilder().setPromptLen(2047).build(), LIMITS,
        new ByteTokenizer()).promptTokens().length);
  }

  /** The same length rule as every entry: on a loaded fleet, the largest agent's KV pool bounds both requests. */
  @Test
  void theFleetsKvPoolBoundsAPromptLenAndABenchmarksDraws() {
    ModelLimits fleet = new ModelLimits(1024, new int[] {257}, 16, LIMITS.length().withKvPool(64, 16));
    assertEquals("prompt_len: a 1024-token prompt plus 1 output token needs 65 KV blocks of 16 tokens; the largest "
        + "agent's KV pool holds 64", invalid(() -> ApiRequests.generation(GenerateRequest.newBuilder()
            .setPromptLen(1024).build(), fleet, new ByteTokenizer())));
    BenchmarkRequest.Builder tail = BenchmarkRequest.newBuilder().setNumRequests(50).setPromptLen("lognormal:700:0.8")
        .setOutputLen("4").setSeed(3);
    String refused = invalid(() -> ApiRequests.benchmark(tail.build(), MODEL, CONFIG, fleet, 2));
    assertTrue(refused.startsWith("prompt_len: request ") && refused.endsWith("(on_overlength \"skip\" leaves such "
        + "requests out)"), refused);
    ApiRequests.Benchmark skipped = ApiRequests.benchmark(tail.setOnOverlength("skip").build(), MODEL, CONFIG, fleet, 2);
    assertTrue(skipped.overlengthSkipped() > 0, "none skipped");
    assertEquals(50, skipped.spec().requests().size() + skipped.overlengthSkipped());
    assertTrue(skipped.spec().requests().stream().allMatch(r -> r.promptTokens().length + r.maxTokens() <= 1024));
  }

  /** Regression: num_requests near 2^31 drew every request (OutOfMemoryError), however short each. */
  @Test
  void aBenchmarkBeyondTheApisSizeIsRefusedBeforeItIsDrawn() {
    assertEquals("num_requests: must be in 1..100000, got 2147483647",
        invalid(BenchmarkRequest.newBuilder().setNumRequests(Integer.MAX_VALUE).setPromptLen("1").build()));
    assertEquals("num_requests: 100000 requests of prompt_len 1:2047 hold about 102400000 prompt tokens; a benchmark "
        + "run through the API holds at most 16777216",
        invalid(BenchmarkRequest.newBuilder().setNumRequests(100_000).setPromptLen("1:2047").build()));
    assertEquals(100_000, ApiRequests.benchmark(BenchmarkRequest.newBuilder().setNumRequests(100_000).setPromptLen("4")
        .setOutputLen("1").build(), MODEL, CONFIG, LIMITS, 2).spec().requests().size());
  }

  /** Regression: an infinite burstiness passed the check and failed in the arrival process (IllegalArgumentException). */
  @Test
  void anInfiniteBurstinessIsInvalid() {
    assertEquals("burstiness: must be a finite number > 0 (0: 1.0, Poisson), got Infinity",
        invalid(BenchmarkRequest.newBuilder().setNumRequests(2).setRequestRate(5).setBurstiness(
            Double.POSITIVE_INFINITY).build()));
  }

  /** Regression: a description quoting a value with a line end was two lines. */
  @Test
  void aDescriptionQuotingALineEndStaysOneLine() {
    assertEquals("placement: unknown placement 'round\\nrobin' (known: least-loaded, round-robin, prefix-aware)",
        invalid(BenchmarkRequest.newBuilder().setNumRequests(2).setPlacement("round\nrobin").build()));
    assertEquals("prompt_len: 'a\\r\\nb' is not a length distribution; expected N, MIN:MAX or lognormal:MEAN:SIGMA",
        invalid(BenchmarkRequest.newBuilder().setNumRequests(2).setPromptLen("a\r\nb").build()));
  }
}
