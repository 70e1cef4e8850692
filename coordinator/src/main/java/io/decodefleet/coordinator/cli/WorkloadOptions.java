package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import io.decodefleet.coordinator.workload.ArrivalProcess;
import io.decodefleet.coordinator.workload.LengthDistribution;
import io.decodefleet.coordinator.workload.OverlengthException;
import io.decodefleet.coordinator.workload.TraceFormatException;
import io.decodefleet.coordinator.workload.SharedPrefixes;
import io.decodefleet.coordinator.workload.TraceOptions;
import io.decodefleet.coordinator.workload.TraceReader;
import io.decodefleet.coordinator.workload.Workload;
import io.decodefleet.coordinator.workload.WorkloadSpec;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The requests of a benchmark: generated (lengths, arrivals) or replayed from a trace file. */
final class WorkloadOptions {
  @Option(names = "--num-requests", description = "Requests in a generated workload (default: ${DEFAULT-VALUE}).")
  int numRequests = WorkloadSpec.DEFAULT_NUM_REQUESTS;

  @Option(names = "--prompt-len", description = "Prompt tokens: N, MIN:MAX (uniform) or lognormal:MEAN:SIGMA "
      + "(default: ${DEFAULT-VALUE}).")
  String promptLen = WorkloadSpec.DEFAULT_PROMPT_LEN;

  @Option(names = "--output-len", description = "Output tokens: N, MIN:MAX or lognormal:MEAN:SIGMA "
      + "(default: ${DEFAULT-VALUE}).")
  String outputLen = WorkloadSpec.DEFAULT_OUTPUT_LEN;

  @Option(names = "--request-rate", description = "Requests per second; inf = all at once (default: ${DEFAULT-VALUE}).")
  String requestRate = "inf";

  @Option(names = "--burstiness", description = "Gamma shape of the arrival gaps: 1.0 = Poisson (default: ${DEFAULT-VALUE}).")
  double burstiness = WorkloadSpec.DEFAULT_BURSTINESS;

  @Option(names = "--max-concurrency", description = "Most requests outstanding at once (closed loop); 0 = unlimited "
      + "(default: ${DEFAULT-VALUE}).")
  int maxConcurrency = 0;

  @Option(names = "--num-prefixes", description = "Shared-prefix workload: this many random prompt prefixes; each "
      + "request starts with one (drawn uniformly), then --prompt-len tokens of its own (default: none).")
  int numPrefixes = 0;

  @Option(names = "--prefix-len", description = "Shared-prefix workload: tokens of each prefix (with --num-prefixes).")
  int prefixLen = 0;

  @Option(names = "--turns", description = "Multi-turn conversations: each of --num-requests requests opens a "
      + "conversation of this many turns; a turn's prompt is every earlier prompt and output, then a new message of "
      + "--prompt-len tokens; it is sent when the previous turn finishes (default: ${DEFAULT-VALUE}).")
  int turns = 1;

  @Option(names = "--trace", description = "Replay a trace instead: .jsonl (arrival_s, prompt_tokens or prompt_len, "
      + "output_len) or .csv (TIMESTAMP,ContextTokens,GeneratedTokens as the Azure LLM inference traces).")
  Path trace;

  @Option(names = "--trace-time-scale", description = "Multiply the trace's arrival offsets (0.5 = twice as fast; "
      + "default: ${DEFAULT-VALUE}).")
  double traceTimeScale = 1.0;

  @Option(names = "--trace-hash-block-size", description = "Tokens per hash_ids block of a Mooncake-format trace "
      + "(default: ${DEFAULT-VALUE}, the Mooncake trace's).")
  int traceHashBlockSize = TraceOptions.DEFAULT_HASH_BLOCK_SIZE;

  @Option(names = "--on-overlength", paramLabel = "skip|error", description = "A trace row, a draw of a lognormal "
      + "length or a conversation's turn whose prompt plus output exceed the model's context or the largest agent's "
      + "KV pool: error (exit 2 naming it) or skip (leave it out; how many is printed and in report.json). Nothing "
      + "is cut to fit; a fixed or MIN:MAX length's longest draw is checked up front (default: ${DEFAULT-VALUE}).")
  String onOverlength = "error";

  @Option(names = "--trace-max-requests", description = "Replay only the first N requests of the trace; 0 = all "
      + "(default: ${DEFAULT-VALUE}).")
  int traceMaxRequests = 0;

  /** What every request must fit before the fleet is known: {@code model}'s context. */
  static LengthLimit contextLimit(ModelConfig model) {
    return LengthLimit.context(model.name(), model.maxPositionEmbeddings());
  }

  OverlengthPolicy overlengthPolicy() {
    try {
      return OverlengthPolicy.parse(onOverlength);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--on-overlength " + e.getMessage());
    }
  }

  /**
   * The requests, each checked against {@code limit}; bad values, malformed traces and requests over
   * the limit (unless --on-overlength skip leaves them out) are usage errors.
   */
  Workload requests(ModelConfig model, long seed, LengthLimit limit) {
    if (maxConcurrency < 0) throw new UsageError("--max-concurrency must be >= 0, got " + maxConcurrency);
    if (trace != null && turns != 1) throw new UsageError("--turns applies to generated workloads, not to --trace");
    if (trace != null) {
      if (!(traceTimeScale >= 0) || Double.isInfinite(traceTimeScale)) {
        throw new UsageError("--trace-time-scale must be >= 0, got " + traceTimeScale);
      }
      if (traceMaxRequests < 0) throw new UsageError("--trace-max-requests must be >= 0, got " + traceMaxRequests);
      if (traceHashBlockSize < 1) {
        throw new UsageError("--trace-hash-block-size must be >= 1, got " + traceHashBlockSize);
      }
      OverlengthPolicy policy = overlengthPolicy();
      try {
        return runnable(TraceReader.read(trace, new TraceOptions(traceTimeScale, traceMaxRequests, traceHashBlockSize),
            model.vocabSize(), limit, policy, seed), limit);
      } catch (TraceFormatException e) {
        throw new UsageError("--trace: " + e.getMessage());
      } catch (OverlengthException e) {
        throw overlength(e);
      } catch (IOException e) {
        throw new UsageError("--trace: cannot read " + trace + ": " + e.getMessage());
      }
    }
    return requests(model, seed, limit, arrivals());
  }

  /**
   * The generated workload with {@code arrivals} in place of --request-rate's: the same seed gives the
   * same prompts and lengths, since arrivals draw from a stream of their own.
   */
  Workload requests(ModelConfig model, long seed, LengthLimit limit, ArrivalProcess arrivals) {
    if (maxConcurrency < 0) throw new UsageError("--max-concurrency must be >= 0, got " + maxConcurrency);
    if (numRequests < 1) throw new UsageError("--num-requests must be >= 1, got " + numRequests);
    OverlengthPolicy policy = overlengthPolicy();
    WorkloadSpec spec;
    try {
      spec = new WorkloadSpec(numRequests, length("--prompt-len", promptLen), length("--output-len", outputLen),
          arrivals, maxConcurrency, new SharedPrefixes(numPrefixes, prefixLen), turns);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--num-prefixes/--prefix-len/--turns: " + e.getMessage());
    }
    try {
      return runnable(spec.requests(model.vocabSize(), limit, policy, seed), limit);
    } catch (OverlengthException e) {
      throw overlength(e);
    }
  }

  /**
   * The workload on a loaded fleet: {@code drawn} was checked against the model's context ({@code
   * context}); where the fleet's KV pools ({@code fleet}) hold less, it is drawn (or read) again against
   * them, so a request over the pool is a UsageError or, with --on-overlength skip, left out and counted.
   */
  Workload onFleet(ModelConfig model, long seed, Workload drawn, LengthLimit context, LengthLimit fleet) {
    return fleet.maxTokens() < context.maxTokens() ? requests(model, seed, fleet) : drawn;
  }

  /** The line saying how many requests --on-overlength skip left out, and of what limit; null when none. */
  static String skippedLine(Workload workload, LengthLimit limit) {
    if (workload.skipped() == 0) return null;
    return "DecodeFleet: --on-overlength skip left out " + workload.skipped() + " of " + workload.drawn()
        + " requests whose prompt plus output exceed the " + limit.maxTokens() + " tokens a sequence may hold"
        + (limit.maxTokens() < limit.contextTokens() ? " in the largest agent's KV pool" : " in model "
            + limit.model() + "'s context");
  }

  /** The workload, unless --on-overlength skip left nothing of it. */
  private Workload runnable(Workload workload, LengthLimit limit) {
    if (!workload.requests().isEmpty()) return workload;
    throw new UsageError((trace != null ? "--trace" : "--on-overlength skip") + ": every one of the "
        + workload.drawn() + " requests exceeds the " + limit.maxTokens() + " tokens a sequence of model "
        + limit.model() + " may hold" + (limit.knowsKvPool() ? " on this fleet" : "") + "; nothing is left to run");
  }

  /** One line naming the setting as the command line spells it, then the request and the limit. */
  private UsageError overlength(OverlengthException e) {
    String setting = switch (e.setting()) {
      case PROMPT_LEN -> "--prompt-len " + promptLen;
      case OUTPUT_LEN -> "--output-len " + outputLen;
      case PREFIX_LEN -> "--prefix-len " + prefixLen;
      case TURNS -> "--turns " + turns;
      case TRACE -> "--trace";
    };
    String hint = e.perRequest() ? " (--on-overlength skip leaves such " + (trace != null ? "rows" : "requests")
        + " out)" : "";
    return new UsageError(setting + ": " + e.getMessage() + hint);
  }

  ArrivalProcess arrivals() {
    return arrivals("--request-rate", requestRate);
  }

  /** {@code rate} (requests/s, or inf) as an arrival process with --burstiness; {@code option} names it in errors. */
  ArrivalProcess arrivals(String option, String rate) {
    if (rate.equalsIgnoreCase("inf")) return new ArrivalProcess.AllAtOnce();
    double perSecond;
    try {
      perSecond = Double.parseDouble(rate);
    } catch (NumberFormatException e) {
      throw new UsageError(option + ": '" + rate + "' is not a number of requests/s or inf");
    }
    try {
      return new ArrivalProcess.Rate(perSecond, burstiness);
    } catch (IllegalArgumentException e) {
      throw new UsageError(option + "/--burstiness: " + e.getMessage());
    }
  }

  private static LengthDistribution length(String option, String text) {
    try {
      return LengthDistribution.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageError(option + ": " + e.getMessage());
    }
  }

  /** Adds the workload's settings to report.json's "settings" (a trace's, or the generator's). */
  void describe(ObjectNode settings) {
    if (trace != null) {
      settings.put("trace", trace.toString());
      settings.put("trace_time_scale", traceTimeScale);
      settings.put("trace_max_requests", traceMaxRequests);
    } else {
      settings.put("num_requests", numRequests);
      settings.put("prompt_len", promptLen);
      settings.put("output_len", outputLen);
      settings.put("request_rate", requestRate);
      settings.put("burstiness", burstiness);
      if (turns > 1) settings.put("turns", turns);
      if (numPrefixes > 0) {
        settings.put("num_prefixes", numPrefixes);
        settings.put("prefix_len", prefixLen);
      }
    }
    settings.put("max_concurrency", maxConcurrency);
    settings.put("on_overlength", overlengthPolicy().label());
  }
}
