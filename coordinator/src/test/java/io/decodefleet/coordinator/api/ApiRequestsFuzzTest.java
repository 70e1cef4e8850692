package io.decodefleet.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.api.SamplingParams;
import io.decodefleet.coordinator.BoundedTry;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.generation.ServableRequests;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.decodefleet.coordinator.text.Tokenizer;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.apache.pekko.grpc.GrpcServiceException;

/**
 * Whatever a gRPC client sends, {@link ApiRequests} answers with a request the fleet can serve as it
 * stands or INVALID_ARGUMENT naming, on one line, a field the client set; never another exception, a
 * hang, or memory a field merely claims. The same holds for bytes off the wire: the protobuf parser
 * refuses them or the decoder answers as above.
 */
class ApiRequestsFuzzTest {
  /**
   * The tiny preset's vocabulary and context, EOS 257 (the byte tokenizer's), on a fleet whose largest
   * KV pool (120 blocks of 16: 1920 tokens) holds less than the context: both halves of the length rule.
   */
  private static final ModelLimits LIMITS = new ModelLimits(1024, new int[] {257}, 16,
      LengthLimit.context("tiny", 2048).withKvPool(120, 16));
  private static final Tokenizer TOKENIZER = new ByteTokenizer();
  private static final ModelSpec MODEL = new ModelSpec("tiny", 11, 16, 64, 16, 128, 0.0);
  private static final ModelConfig CONFIG = ModelConfig.preset("tiny");
  private static final int WORLD_SIZE = 2;
  private static final Duration LIMIT = Duration.ofSeconds(10);
  /** A request's prompt is at most the context: a few KB; anything near this is a claimed size allocated. */
  private static final long GENERATE_BYTES = 16L << 20;
  /**
   * A benchmark may hold the API's most requests (a few hundred bytes each) and prompt tokens (4-byte
   * ids; a uniform length's samples reach twice its mean).
   */
  private static final long BENCHMARK_BYTES = 2L * 4 * ApiRequests.MAX_BENCHMARK_PROMPT_TOKENS
      + 256L * ApiRequests.MAX_BENCHMARK_REQUESTS + (32L << 20);

  // ---------------------------------------------------------------- properties

  @Property(tries = 1000)
  void everyGenerateRequestIsServableOrNamesAFieldItSets(@ForAll("generateRequests") GenerateRequest in)
      throws Exception {
    assertGenerateAnswered(in);
  }

  @Property(tries = 600)
  void bytesOffTheWireParseAndDecodeOrAreRefused(@ForAll("generateBytes") byte[] wire) throws Exception {
    GenerateRequest in;
    try {
      in = GenerateRequest.parseFrom(wire);
    } catch (InvalidProtocolBufferException e) {
      return; // the framework answers that itself
    }
    assertGenerateAnswered(in);
  }

  @Property(tries = 800)
  void everyBenchmarkRequestRunsOrNamesAFieldItSets(@ForAll("benchmarkRequests") BenchmarkRequest in)
      throws Exception {
    assertBenchmarkAnswered(in);
  }

  @Property(tries = 500)
  void benchmarkBytesOffTheWireParseAndDecodeOrAreRefused(@ForAll("benchmarkBytes") byte[] wire) throws Exception {
    BenchmarkRequest in;
    try {
      in = BenchmarkRequest.parseFrom(wire);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    assertBenchmarkAnswered(in);
  }

  // ---------------------------------------------------------------- oracles

  private static void assertGenerateAnswered(GenerateRequest in) throws Exception {
    BoundedTry.Outcome<GenerationRequest> o = BoundedTry.call(LIMIT, GENERATE_BYTES,
        () -> ApiRequests.generation(in, LIMITS, TOKENIZER));
    if (o.thrown() == null) {
      ServableRequests.assertServable(o.value(), LIMITS);
      return;
    }
    assertInvalidArgumentNaming(o.thrown(), setFields(in));
  }

  private static void assertBenchmarkAnswered(BenchmarkRequest in) throws Exception {
    BoundedTry.Outcome<ApiRequests.Benchmark> o = BoundedTry.call(LIMIT, BENCHMARK_BYTES,
        () -> ApiRequests.benchmark(in, MODEL, CONFIG, LIMITS, WORLD_SIZE));
    if (o.thrown() == null) {
      BenchmarkSpec spec = o.value().spec();
      int skipped = o.value().overlengthSkipped();
      assertTrue(spec.worldSize() >= 0 && spec.worldSize() <= WORLD_SIZE, "world size " + spec.worldSize());
      assertTrue(skipped == 0 || in.getOnOverlength().strip().equalsIgnoreCase("skip"), skipped + " skipped");
      assertEquals(in.getNumRequests(), spec.requests().size() + skipped);
      assertTrue(spec.maxConcurrency() >= 0);
      long context = LIMITS.length().maxTokens();
      long previous = 0;
      for (RequestSpec r : spec.requests()) {
        assertTrue(r.arrivalNanos() >= previous, "arrivals go back");
        previous = r.arrivalNanos();
        assertTrue(r.promptTokens().length >= 1 && r.promptTokens().length + r.maxTokens() <= context);
        assertTrue(r.maxTokens() >= 1);
        assertTrue(Arrays.stream(r.promptTokens()).allMatch(t -> t >= 0 && t < CONFIG.vocabSize()));
      }
      return;
    }
    assertInvalidArgumentNaming(o.thrown(), setFields(in));
  }

  /** {@code thrown} must be INVALID_ARGUMENT whose one-line description starts with one of {@code fields}. */
  private static void assertInvalidArgumentNaming(Throwable thrown, Set<String> fields) {
    if (!(thrown instanceof GrpcServiceException e)) throw new AssertionError("not a gRPC status: " + thrown, thrown);
    Status status = e.status();
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
    String description = status.getDescription();
    assertFalse(description.contains("\n") || description.contains("\r"), description);
    int colon = description.indexOf(": ");
    assertTrue(colon > 0, description);
    String field = description.substring(0, colon);
    assertTrue(fields.contains(field), "names '" + field + "', not a field the client set (" + fields + "): "
        + description);
  }

  /** The fields a Generate request sets (a prompt is required, so naming it is always right). */
  private static Set<String> setFields(GenerateRequest in) {
    Set<String> set = new HashSet<>(List.of("prompt_token_ids"));
    if (!in.getPrompt().isEmpty()) set.add("prompt");
    if (in.getPromptLen() != 0) set.add("prompt_len");
    if (in.getMaxTokens() != 0) set.add("max_tokens");
    SamplingParams p = in.getSampling();
    if (p.getTemperature() != 0) set.add("sampling.temperature");
    if (p.hasTopP()) set.add("sampling.top_p");
    if (p.getTopK() != 0) set.add("sampling.top_k");
    if (p.getStopTokenIdsCount() > 0) set.add("sampling.stop_token_ids");
    if (p.getMinTokens() != 0) set.add("sampling.min_tokens");
    if (p.getStopCount() > 0) set.add("sampling.stop");
    return set;
  }

  /** The fields a RunBenchmark request sets (num_requests is required). */
  private static Set<String> setFields(BenchmarkRequest in) {
    Set<String> set = new HashSet<>(List.of("num_requests"));
    if (in.getWorldSize() != 0) set.add("world_size");
    if (!in.getPromptLen().isEmpty()) set.add("prompt_len");
    if (!in.getOutputLen().isEmpty()) set.add("output_len");
    if (!in.getPlacement().isEmpty()) set.add("placement");
    if (in.getRequestRate() != 0) set.add("request_rate");
    if (in.getBurstiness() != 0) set.add("burstiness");
    if (in.getMaxConcurrency() != 0) set.add("max_concurrency");
    if (!in.getOnOverlength().isEmpty()) set.add("on_overlength");
    return set;
  }

  // ---------------------------------------------------------------- values

  /** Ints as a client might send them: small, near the KV pool and the context, at the edges of an int. */
  private static Arbitrary<Integer> ints() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(-3, 40)),
        Tuple.of(1, Arbitraries.integers().between(1900, 1940)),
        Tuple.of(2, Arbitraries.integers().between(2030, 2060)),
        Tuple.of(2, Arbitraries.integers()),
        Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, 1 << 30)));
  }

  private static Arbitrary<Double> doubles() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.doubles().between(-2, 2)),
        Tuple.of(2, Arbitraries.doubles().withStandardSpecialValues()),
        Tuple.of(1, Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 1e-50,
            1e300, Double.MIN_VALUE, Double.MAX_VALUE, 1e-300)));
  }

  /** Strings of any characters (lone surrogates included), short or a few thousand long. */
  private static Arbitrary<String> strings() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.strings().all().ofMaxLength(30)),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(1000).ofMaxLength(2100)),
        Tuple.of(1, Arbitraries.of("", "\n", "a\nb", "\u0000", "\uD800")));
  }

  /**
   * A field set on the builder to a value a client means (three times in four) or to any value,
   * or left unset: most tries then get past the other fields to the one that is wild.
   */
  private static <B, T> Arbitrary<UnaryOperator<B>> field(Arbitrary<T> meant, Arbitrary<T> any,
      java.util.function.BiFunction<B, T, B> set) {
    return Arbitraries.frequencyOf(Tuple.of(3, meant), Tuple.of(1, any))
        .<UnaryOperator<B>>map(v -> b -> set.apply(b, v)).injectNull(0.3);
  }

  private static <B, M> Arbitrary<M> message(java.util.function.Supplier<B> builder,
      java.util.function.Function<B, M> build, List<Arbitrary<UnaryOperator<B>>> fields) {
    return Combinators.combine(fields).as(ops -> {
      B b = builder.get();
      for (UnaryOperator<B> op : ops) if (op != null) b = op.apply(b);
      return build.apply(b);
    });
  }

  @Provide
  Arbitrary<GenerateRequest> generateRequests() {
    Arbitrary<Boolean> bool = Arbitraries.of(true, false);
    Arbitrary<Integer> small = Arbitraries.integers().between(1, 64);
    Arbitrary<SamplingParams> sampling = message(SamplingParams::newBuilder, SamplingParams.Builder::build, List.of(
        field(Arbitraries.doubles().between(0, 2), doubles(), SamplingParams.Builder::setTemperature),
        field(Arbitraries.doubles().between(0.01, 1), doubles(), SamplingParams.Builder::setTopP),
        field(Arbitraries.of(-1, 0, 1, 40), ints(), SamplingParams.Builder::setTopK),
        field(Arbitraries.integers().between(0, 1023).list().ofMaxSize(4), ints().list().ofMaxSize(20),
            SamplingParams.Builder::addAllStopTokenIds),
        field(bool, bool, SamplingParams.Builder::setIgnoreEos),
        field(Arbitraries.integers().between(0, 4), ints(), SamplingParams.Builder::setMinTokens),
        field(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(5).list().ofMaxSize(3),
            strings().list().ofMaxSize(20), SamplingParams.Builder::addAllStop),
        field(bool, bool, SamplingParams.Builder::setSkipSpecialTokens)));
    Arbitrary<List<Integer>> ids = Arbitraries.integers().between(0, 1023).list().ofMinSize(1).ofMaxSize(64);
    Arbitrary<List<Integer>> anyIds = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(0, 1023)), Tuple.of(1, ints())).list().ofMaxSize(2100);
    return message(GenerateRequest::newBuilder, GenerateRequest.Builder::build, List.of(
        field(ids, anyIds, GenerateRequest.Builder::addAllPromptTokenIds),
        field(small, ints(), GenerateRequest.Builder::setPromptLen),
        field(small, ints(), GenerateRequest.Builder::setMaxTokens),
        field(sampling, sampling, GenerateRequest.Builder::setSampling),
        field(Arbitraries.longs(), Arbitraries.longs(), GenerateRequest.Builder::setSeed),
        field(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(40), strings(),
            GenerateRequest.Builder::setPrompt)));
  }

  @Provide
  Arbitrary<BenchmarkRequest> benchmarkRequests() {
    Arbitrary<Integer> numRequests = Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.integers().between(1, 40)),
        Tuple.of(1, Arbitraries.integers()),
        Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE, 100_000, 100_001)));
    Arbitrary<String> meantLength = Arbitraries.of("1", "8", "8:30", "1:2047", "2048", "2147483647", "1:2147483647",
        "lognormal:200:0.8", "lognormal:1e300:0", "lognormal:1:1e300", "LOGNORMAL: 50 : 0.5 ", "lognormal:1e-300:0",
        " 7 ");
    Arbitrary<String> anyLength = Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.of("0", "-5", "5:3", "lognormal:NaN:1", "lognormal:inf:1", "lognormal:-1:1", ":",
            "::", "1:", "lognormal", "1:2:3")),
        Tuple.of(1, ints().map(String::valueOf)),
        Tuple.of(1, Combinators.combine(ints(), ints()).as((a, b) -> a + ":" + b)),
        Tuple.of(2, strings()));
    Arbitrary<String> meantPlacement = Arbitraries.of("least-loaded", "round-robin", "prefix-aware",
        "prefix-aware:0.5", "Round-Robin");
    Arbitrary<String> anyPlacement = Arbitraries.oneOf(Arbitraries.of("prefix-aware:", "prefix-aware:NaN",
        "prefix-aware:-1", "prefix-aware:1e400", "prefix-aware:Infinity"), strings());
    Arbitrary<Double> rate = Arbitraries.doubles().between(0.1, 1000);
    return message(BenchmarkRequest::newBuilder, BenchmarkRequest.Builder::build, List.of(
        field(Arbitraries.integers().between(0, WORLD_SIZE), ints(), BenchmarkRequest.Builder::setWorldSize),
        numRequests.<UnaryOperator<BenchmarkRequest.Builder>>map(n -> b -> b.setNumRequests(n)),
        field(meantLength, anyLength, BenchmarkRequest.Builder::setPromptLen),
        field(meantLength, anyLength, BenchmarkRequest.Builder::setOutputLen),
        field(meantPlacement, anyPlacement, BenchmarkRequest.Builder::setPlacement),
        field(Arbitraries.longs(), Arbitraries.longs(), BenchmarkRequest.Builder::setSeed),
        field(rate, doubles(), BenchmarkRequest.Builder::setRequestRate),
        field(Arbitraries.doubles().between(0.1, 4), doubles(), BenchmarkRequest.Builder::setBurstiness),
        field(Arbitraries.integers().between(0, 8), ints(), BenchmarkRequest.Builder::setMaxConcurrency),
        field(Arbitraries.of("skip", "error", " Skip "), strings(), BenchmarkRequest.Builder::setOnOverlength)));
  }

  // ---------------------------------------------------------------- bytes

  @Provide
  Arbitrary<byte[]> generateBytes() {
    return wireBytes(generateRequests().map(GenerateRequest::toByteArray));
  }

  @Provide
  Arbitrary<byte[]> benchmarkBytes() {
    return wireBytes(benchmarkRequests().map(BenchmarkRequest::toByteArray));
  }

  /** Random bytes, or a serialized request with some bytes overwritten, cut out or put in. */
  private static Arbitrary<byte[]> wireBytes(Arbitrary<byte[]> serialized) {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<int[]> edit = Combinators.combine(Arbitraries.integers().between(0, 2),
        Arbitraries.integers().between(0, 1 << 16), Arbitraries.integers().between(0, 255),
        Arbitraries.integers().between(1, 6)).as((kind, at, value, n) -> new int[] {kind, at, value, n});
    Arbitrary<byte[]> edited = Combinators.combine(serialized, edit.list().ofMinSize(1).ofMaxSize(4)).as((bytes, edits) -> {
      List<Byte> b = new ArrayList<>();
      for (byte x : bytes) b.add(x);
      for (int[] e : edits) {
        int at = b.isEmpty() ? 0 : e[1] % (b.size() + 1);
        switch (e[0]) {
          case 0 -> { if (at < b.size()) b.set(at, (byte) e[2]); }
          case 1 -> { for (int i = 0; i < e[3] && at < b.size(); i++) b.remove(at); }
          default -> { for (int i = 0; i < e[3]; i++) b.add(at, (byte) e[2]); }
        }
      }
      byte[] out = new byte[b.size()];
      for (int i = 0; i < out.length; i++) out[i] = b.get(i);
      return out;
    });
    return Arbitraries.frequencyOf(Tuple.of(1, random), Tuple.of(3, edited));
  }
}
