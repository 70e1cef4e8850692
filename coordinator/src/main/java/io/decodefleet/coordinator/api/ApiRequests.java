package io.decodefleet.coordinator.api;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.api.BenchmarkRequest;
import io.decodefleet.api.GenerateRequest;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import io.decodefleet.coordinator.generation.GenerationFields;
import io.decodefleet.coordinator.generation.GenerationRequest;
import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import io.decodefleet.coordinator.run.BenchmarkSpec;
import io.decodefleet.coordinator.text.Tokenizer;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.OverlengthException;
import io.decodefleet.coordinator.workload.Workload;
import io.decodefleet.coordinator.workload.WorkloadSpec;
import java.time.Duration;
import java.util.SplittableRandom;
import org.apache.pekko.grpc.GrpcServiceException;

/**
 * The gRPC API's requests as the fleet takes them: a Generate request becomes the same {@link
 * GenerationRequest} as an HTTP one, a RunBenchmark request a {@link BenchmarkSpec}. Both are held to
 * the fleet's {@link LengthLimit} (the model's context, the largest agent's KV pool), a benchmark's
 * draws over it refused or left out as its on_overlength says. Whatever a client sends, the answer is
 * one of those or INVALID_ARGUMENT naming the field, never another exception.
 */
final class ApiRequests {
  /** A benchmark's run and how many of its drawn requests on_overlength "skip" left out. */
  record Benchmark(BenchmarkSpec spec, int overlengthSkipped) {}

  /**
   * What a benchmark asked through the API may hold: the run keeps every request and its prompt from
   * the start, so both are bounded before anything is drawn (a larger benchmark runs from the CLI).
   */
  static final int MAX_BENCHMARK_REQUESTS = 100_000;
  /** Decode steps a run may profile per agent: each is an eager, event-timed step, so far slower than a graph's. */
  static final int MAX_PROFILE_STEPS = 10_000;
  /** Prompt tokens of all requests together, by the prompt length's mean (64 MiB of ids). */
  static final long MAX_BENCHMARK_PROMPT_TOKENS = 1L << 24;

  private ApiRequests() {}

  /**
   * A Generate request's fields, checked as the HTTP API checks them.
   *
   * @param tokenizer encodes a text prompt
   * @throws GrpcServiceException INVALID_ARGUMENT naming the first field that cannot be served
   */
  static GenerationRequest generation(GenerateRequest in, ModelLimits limits, Tokenizer tokenizer) {
    boolean hasIds = in.getPromptTokenIdsCount() > 0;
    boolean hasText = !in.getPrompt().isEmpty();
    String promptField = hasIds ? "prompt_token_ids" : hasText ? "prompt" : "prompt_len";
    if ((hasIds ? 1 : 0) + (hasText ? 1 : 0) + (in.getPromptLen() != 0 ? 1 : 0) > 1) {
      throw ApiStatus.invalid(in.getPromptLen() != 0 ? "prompt_len" : "prompt",
          "give one of prompt_token_ids, prompt and prompt_len");
    }
    if (!hasIds && !hasText && in.getPromptLen() <= 0) {
      throw ApiStatus.invalid("prompt_token_ids", "a prompt is required (prompt_token_ids, prompt, or prompt_len >= 1)");
    }
    int[] prompt;
    if (hasIds) {
      prompt = in.getPromptTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
    } else if (hasText) {
      prompt = tokenizer.encode(in.getPrompt(), true);
    } else {
      try {
        // before its tokens are allocated
        GenerationFields.checkPromptLength(in.getPromptLen(), in.getMaxTokens() == 0 ? null : in.getMaxTokens(), limits);
      } catch (InvalidField e) {
        throw ApiStatus.invalid("prompt_len", e.getMessage().substring(e.field().length() + 2));
      }
      SplittableRandom rng = new SplittableRandom(in.getSeed());
      prompt = new int[in.getPromptLen()];
      for (int i = 0; i < prompt.length; i++) prompt[i] = rng.nextInt(limits.vocabSize());
    }
    io.decodefleet.api.SamplingParams p = in.getSampling();
    GenerationFields fields = new GenerationFields(in.getMaxTokens() == 0 ? null : in.getMaxTokens(),
        p.getTemperature(), p.hasTopP() ? p.getTopP() : null, p.getTopK(), in.getSeed(), p.getStopTokenIdsList(),
        p.getIgnoreEos(), p.getMinTokens(), p.getStopList(), p.hasSkipSpecialTokens() ? p.getSkipSpecialTokens() : null);
    try {
      return fields.toRequest(prompt, limits);
    } catch (InvalidField e) {
      String field = e.field().equals("prompt") ? promptField
          : e.field().equals("max_tokens") ? "max_tokens" : "sampling." + e.field();
      throw ApiStatus.invalid(field, e.getMessage().substring(e.field().length() + 2));
    }
  }

  /**
   * A RunBenchmark request's workload and run, its empty fields given the CLI's defaults. Its requests
   * must fit {@code limits}' length limit: a fixed or MIN:MAX length's longest draw is checked up front,
   * a lognormal draw over it is refused or (on_overlength "skip") left out and counted.
   *
   * @param limits the loaded fleet's (see {@link ModelLimits#onFleet})
   * @param worldSize agents the fleet has loaded: the most a run may ask for
   * @throws GrpcServiceException INVALID_ARGUMENT naming the first field that cannot be run
   */
  static Benchmark benchmark(BenchmarkRequest in, ModelSpec model, ModelConfig config, ModelLimits limits,
      int worldSize) {
    int ws = in.getWorldSize();
    if (ws < 0 || ws > worldSize) {
      throw ApiStatus.invalid("world_size", "must be in 0.." + worldSize + " (the agents loaded), got " + in.getWorldSize());
    }
    if (in.getNumRequests() < 1 || in.getNumRequests() > MAX_BENCHMARK_REQUESTS) {
      throw ApiStatus.invalid("num_requests", "must be in 1.." + MAX_BENCHMARK_REQUESTS + ", got " + in.getNumRequests());
    }
    LengthDistribution prompt = length("prompt_len",
        in.getPromptLen().isEmpty() ? WorkloadSpec.DEFAULT_PROMPT_LEN : in.getPromptLen());
    LengthDistribution output = length("output_len",
        in.getOutputLen().isEmpty() ? WorkloadSpec.DEFAULT_OUTPUT_LEN : in.getOutputLen());
    String placement = in.getPlacement().isEmpty() ? PlacementPolicy.DEFAULT : in.getPlacement();
    try {
      PlacementPolicy.named(placement);
    } catch (IllegalArgumentException e) {
      throw ApiStatus.invalid("placement", e.getMessage());
    }
    if (!(in.getRequestRate() >= 0) || Double.isInfinite(in.getRequestRate())) {
      throw ApiStatus.invalid("request_rate", "must be >= 0 requests/s (0: all at once), got " + in.getRequestRate());
    }
    if (!(in.getBurstiness() >= 0) || Double.isInfinite(in.getBurstiness())) {
      throw ApiStatus.invalid("burstiness", "must be a finite number > 0 (0: 1.0, Poisson), got " + in.getBurstiness());
    }
    if (in.getMaxConcurrency() < 0) {
      throw ApiStatus.invalid("max_concurrency", "must be >= 0 (0: unlimited), got " + in.getMaxConcurrency());
    }
    if (in.getProfileSteps() < 0 || in.getProfileSteps() > MAX_PROFILE_STEPS) {
      throw ApiStatus.invalid("profile_steps", "must be in 0.." + MAX_PROFILE_STEPS + " (0: none), got "
          + in.getProfileSteps());
    }
    OverlengthPolicy policy;
    try {
      policy = in.getOnOverlength().isEmpty() ? OverlengthPolicy.ERROR : OverlengthPolicy.parse(in.getOnOverlength());
    } catch (IllegalArgumentException e) {
      throw ApiStatus.invalid("on_overlength", e.getMessage());
    }
    ArrivalProcess arrivals = in.getRequestRate() == 0 ? new ArrivalProcess.AllAtOnce()
        : new ArrivalProcess.Rate(in.getRequestRate(),
            in.getBurstiness() == 0 ? WorkloadSpec.DEFAULT_BURSTINESS : in.getBurstiness());
    LengthLimit length = limits.length();
    double promptTokens = (double) in.getNumRequests() * Math.max(1, Math.min(prompt.mean(), length.maxTokens() - 1));
    if (promptTokens > MAX_BENCHMARK_PROMPT_TOKENS) {
      throw ApiStatus.invalid("num_requests", in.getNumRequests() + " requests of prompt_len " + prompt
          + " hold about " + (long) promptTokens + " prompt tokens; a benchmark run through the API holds at most "
          + MAX_BENCHMARK_PROMPT_TOKENS);
    }
    WorkloadSpec spec = new WorkloadSpec(in.getNumRequests(), prompt, output, arrivals, in.getMaxConcurrency());
    Workload workload;
    try {
      workload = spec.requests(config.vocabSize(), length, policy, in.getSeed());
    } catch (OverlengthException e) {
      boolean prompts = e.setting() == OverlengthException.Setting.PROMPT_LEN;
      // A default length is named only when the client set neither (the other one drove the total over).
      if ((prompts ? in.getPromptLen() : in.getOutputLen()).isEmpty()) prompts = !prompts;
      String field = prompts ? "prompt_len" : "output_len";
      throw ApiStatus.invalid(field, e.getMessage() + (e.perRequest() ? " (on_overlength \"skip\" leaves such "
          + "requests out)" : ""));
    }
    if (workload.requests().isEmpty()) {
      throw ApiStatus.invalid("on_overlength", "\"skip\" left out every one of the " + workload.drawn()
          + " requests drawn: each exceeds the " + length.maxTokens() + " tokens a sequence may hold");
    }
    return new Benchmark(new BenchmarkSpec(ws, model, workload.requests(), placement, spec.maxConcurrency(),
        Duration.ofSeconds(60)).withProfileSteps(in.getProfileSteps()), workload.skipped());
  }

  private static LengthDistribution length(String field, String text) {
    try {
      return LengthDistribution.parse(text);
    } catch (IllegalArgumentException e) {
      throw ApiStatus.invalid(field, e.getMessage());
    }
  }
}
