package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.client.EndpointSession;
import io.decodefleet.coordinator.client.OpenAiEndpoint;
import io.decodefleet.coordinator.metrics.SweepAxis;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.Workload;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * Client mode: the workload against any OpenAI-compatible server instead of an in-process fleet,
 * optionally swept over request rates or concurrencies.
 *
 * <p>Without a sweep flag, client mode runs one point: on the request-rate axis at --request-rate,
 * or, replaying a trace (whose arrival times are its own), on the concurrency axis at
 * --max-concurrency. The prompts' token ids are drawn from the vocabulary of --model (default tiny:
 * ids below 1024, which any real tokenizer has).
 */
final class EndpointOptions {
  /** Options that mean something in client mode; any other one given with --endpoint is refused. */
  private static final Set<String> APPLY = Set.of("--endpoint", "--served-model", "--api-key", "--request-rates",
      "--max-concurrencies", "--num-requests", "--prompt-len", "--output-len", "--request-rate", "--burstiness",
      "--max-concurrency", "--trace", "--trace-time-scale", "--trace-max-requests", "--seed", "--model", "--goodput",
      "--report-dir", "--quiet", "--num-prefixes", "--prefix-len", "--trace-hash-block-size", "--percentile-metrics",
      "--metric-percentiles", "--on-overlength", "--request-timeout", "--temperature");

  @Option(names = "--endpoint", paramLabel = "URL", description = "Client mode: run the workload against this "
      + "OpenAI-compatible server instead (its API base, e.g. http://127.0.0.1:8000/v1): streamed POST URL/completions "
      + "with the prompts' token ids, max_tokens the output length, ignore_eos, temperature 0 (or --temperature); "
      + "needs --served-model.")
  String endpoint;

  @Option(names = "--served-model", paramLabel = "NAME", description = "With --endpoint: the model the server serves "
      + "(each request's \"model\").")
  String servedModel;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:DECODEFLEET_API_KEY}",
      description = "With --endpoint: sent as 'Authorization: Bearer <key>' (env DECODEFLEET_API_KEY).")
  String apiKey;

  @Option(names = "--request-timeout", paramLabel = "SECONDS", description = "With --endpoint: most time one request "
      + "may take from its send to its last event; a request still open then fails with that reason (default 21600, "
      + "six hours, as vllm bench serve's client).")
  String requestTimeout;

  @Option(names = "--temperature", paramLabel = "T", description = "With --endpoint: every request's temperature "
      + "(default 0, greedy; above 0 the server draws each token, as vllm bench serve --temperature).")
  String temperature;

  @Option(names = "--request-rates", split = ",", paramLabel = "R", description = "With --endpoint: sweep the request "
      + "rate (requests/s; inf = all at once), e.g. 1,4,16,inf: the same prompts at each.")
  List<String> requestRates;

  @Option(names = "--max-concurrencies", split = ",", paramLabel = "C", description = "With --endpoint: sweep the "
      + "most requests outstanding (inf = no limit), e.g. 1,8,64.")
  List<String> maxConcurrencies;

  /**
   * Whether the command line asks for client mode, or gives one of its options (to be refused without
   * --endpoint).
   */
  boolean wanted(ParseResult parsed) {
    return endpoint != null || requestRates != null || maxConcurrencies != null
        || parsed.hasMatchedOption("--served-model") || parsed.hasMatchedOption("--api-key")
        || requestTimeout != null || temperature != null;
  }

  /**
   * The client-mode session, every option checked against {@code parsed} (the command line as given).
   *
   * @param vocab the preset whose vocabulary and context bound the generated prompts
   * @param settings report.json's "settings", filled in here
   */
  EndpointSession session(ParseResult parsed, WorkloadOptions workload, ModelConfig vocab, long seed,
      ObjectNode settings) {
    checkCombinations(parsed);
    OpenAiEndpoint target;
    try {
      target = new OpenAiEndpoint(endpoint, servedModel, apiKey == null || apiKey.isBlank() ? null : apiKey,
          requestTimeout(requestTimeout), temperature(temperature));
    } catch (IllegalArgumentException e) {
      throw new UsageError("--endpoint: " + e.getMessage());
    }
    settings.put("endpoint", target.url());
    settings.put("served_model", servedModel);
    settings.put("request_timeout_s", target.requestTimeout().toNanos() / 1e9);
    settings.put("temperature", target.temperature());
    settings.put("vocab_model", vocab.name());
    settings.put("vocab_size", vocab.vocabSize());
    List<EndpointSession.Point> points = new ArrayList<>();
    // The endpoint's KV pools are its own: requests are checked against the preset's context.
    LengthLimit context = WorkloadOptions.contextLimit(vocab);
    int skipped = 0;
    SweepAxis axis;
    if (requestRates != null) {
      axis = SweepAxis.REQUEST_RATE;
      ArrayNode values = settings.putArray("request_rates");
      Set<Double> seen = new HashSet<>();
      for (String rate : nonEmpty("--request-rates", requestRates)) {
        ArrivalProcess arrivals = workload.arrivals("--request-rates", rate);
        double value = arrivals instanceof ArrivalProcess.Rate r ? r.requestsPerSecond() : Double.POSITIVE_INFINITY;
        if (!seen.add(value)) throw new UsageError("--request-rates lists " + axis.format(value) + " twice");
        add(values, value, axis);
        Workload drawn = workload.requests(vocab, seed, context, arrivals);
        skipped = drawn.skipped();
        points.add(new EndpointSession.Point(value, drawn.requests(), workload.maxConcurrency));
      }
    } else if (maxConcurrencies != null || workload.trace != null) {
      axis = SweepAxis.MAX_CONCURRENCY;
      Workload drawn = workload.requests(vocab, seed, context);
      skipped = drawn.skipped();
      var requests = drawn.requests();
      List<String> given = maxConcurrencies != null ? nonEmpty("--max-concurrencies", maxConcurrencies)
          : List.of(workload.maxConcurrency == 0 ? "inf" : String.valueOf(workload.maxConcurrency));
      ArrayNode values = maxConcurrencies != null ? settings.putArray("max_concurrencies") : null;
      Set<Integer> seen = new HashSet<>();
      for (String c : given) {
        int limit = concurrency(c);
        double value = limit == 0 ? Double.POSITIVE_INFINITY : limit;
        if (!seen.add(limit)) throw new UsageError("--max-concurrencies lists " + axis.format(value) + " twice");
        if (values != null) add(values, value, axis);
        points.add(new EndpointSession.Point(value, requests, limit));
      }
    } else {
      axis = SweepAxis.REQUEST_RATE;
      ArrivalProcess arrivals = workload.arrivals();
      double value = arrivals instanceof ArrivalProcess.Rate r ? r.requestsPerSecond() : Double.POSITIVE_INFINITY;
      Workload drawn = workload.requests(vocab, seed, context);
      skipped = drawn.skipped();
      points.add(new EndpointSession.Point(value, drawn.requests(), workload.maxConcurrency));
    }
    workload.describe(settings);
    settings.put("overlength_skipped", skipped);
    // A swept setting is the sweep's, not the single value its flag would have given.
    if (requestRates != null) settings.remove("request_rate");
    if (maxConcurrencies != null) settings.remove("max_concurrency");
    settings.put("seed", seed);
    return new EndpointSession(target, axis, points);
  }

  /** Exclusive options, and options that mean nothing against an endpoint: one line each. */
  private void checkCombinations(ParseResult parsed) {
    if (requestRates != null && maxConcurrencies != null) {
      throw new UsageError("--request-rates and --max-concurrencies are exclusive: a sweep varies one thing");
    }
    String sweep = requestRates != null ? "--request-rates" : maxConcurrencies != null ? "--max-concurrencies" : null;
    for (String sizes : List.of("--world-sizes", "--world-size")) {
      if (sweep != null && parsed.hasMatchedOption(sizes)) {
        throw new UsageError(sweep + " and " + sizes + " are exclusive: a sweep varies one thing");
      }
    }
    if (endpoint == null) {
      if (sweep != null) throw new UsageError(sweep + " needs --endpoint URL (in process, sweep --world-sizes)");
      throw new UsageError((parsed.hasMatchedOption("--served-model") ? "--served-model"
          : parsed.hasMatchedOption("--api-key") ? "--api-key" : temperature != null ? "--temperature"
          : "--request-timeout") + " needs --endpoint URL");
    }
    if (servedModel == null || servedModel.isBlank()) throw new UsageError("--endpoint needs --served-model NAME");
    if (apiKey != null && apiKey.isBlank() && parsed.hasMatchedOption("--api-key")) {
      throw new UsageError("--api-key must not be blank");
    }
    for (OptionSpec option : parsed.matchedOptions()) {
      if (!APPLY.contains(option.longestName())) {
        throw new UsageError(option.longestName() + " does not apply to --endpoint (the server runs its own fleet)");
      }
    }
    if (requestRates != null && parsed.hasMatchedOption("--request-rate")) {
      throw new UsageError("--request-rates and --request-rate are exclusive");
    }
    if (requestRates != null && parsed.hasMatchedOption("--trace")) {
      throw new UsageError("--request-rates does not apply to --trace (a trace has its own arrival times)");
    }
    if (maxConcurrencies != null && parsed.hasMatchedOption("--max-concurrency")) {
      throw new UsageError("--max-concurrencies and --max-concurrency are exclusive");
    }
  }

  /** The values as given, trimmed; an empty list is refused. */
  private static List<String> nonEmpty(String option, List<String> values) {
    if (values.isEmpty() || values.stream().allMatch(String::isBlank)) throw new UsageError(option + " is empty");
    return values.stream().map(String::trim).toList();
  }

  /** A sweep value in "settings" as report.json's "sweep" writes it: a rate, a whole number, or "inf". */
  private static void add(ArrayNode values, double value, SweepAxis axis) {
    if (Double.isInfinite(value)) {
      values.add("inf");
    } else if (axis == SweepAxis.REQUEST_RATE) {
      values.add(value);
    } else {
      values.add((long) value);
    }
  }

  /** The --temperature value: a finite number of 0 or more; 0 (greedy) when not given. */
  static double temperature(String text) {
    if (text == null) return 0;
    double t;
    try {
      t = Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new UsageError("--temperature must be a number >= 0, got '" + text + "'");
    }
    if (!(t >= 0) || Double.isInfinite(t)) throw new UsageError("--temperature must be a number >= 0, got '" + text + "'");
    return t;
  }

  /** The --request-timeout value: seconds, more than 0 and at most a week; the default when not given. */
  static java.time.Duration requestTimeout(String text) {
    if (text == null) return OpenAiEndpoint.DEFAULT_REQUEST_TIMEOUT;
    double s;
    try {
      s = Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new UsageError("--request-timeout: '" + text + "' is not a number of seconds");
    }
    if (!(s > 0) || s > 7 * 24 * 3600) {
      throw new UsageError("--request-timeout: " + text + " is outside (0, 604800] seconds");
    }
    return java.time.Duration.ofNanos(Math.max(1, Math.round(s * 1e9)));
  }

  /** A --max-concurrencies value: a whole number >= 1, or inf (0: no limit). */
  private static int concurrency(String text) {
    if (text.equalsIgnoreCase("inf")) return 0;
    int c;
    try {
      c = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new UsageError("--max-concurrencies: '" + text + "' is not a whole number or inf");
    }
    if (c < 1) throw new UsageError("--max-concurrencies: " + SweepAxis.MAX_CONCURRENCY.invalid(c));
    return c;
  }
}
