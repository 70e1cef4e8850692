package io.decodefleet.agent.calibration;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How long one engine step of a model takes on one device, as {@code gpu-agent bench step
 * --calibration-out} measures it (or {@code gpu-agent bench roofline} projects it for a device not at
 * hand), for the fleet simulation ({@code coordinator simulate --calibration FILE}). Written as JSON
 * by {@link #toJson}; the coordinator reads it back into this record. The file format is documented in
 * docs/simulation.md.
 *
 * @param kind "measured" (timed on the device) or "projection" (computed from published peak rates:
 *     every report of a simulation that uses it says so)
 * @param device the device, as the benchmark named it
 * @param backend "cpu" or "cuda"
 * @param model the model preset every table is for
 * @param blockSize KV block size in tokens the tables were measured with
 * @param date when it was measured or projected, ISO-8601
 * @param command the command that wrote it
 * @param host the processor cores the agents share, as the embedded cluster's CPU agents (one engine
 *     thread each, in one JVM) share their host; null: every agent has its own device
 * @param dispatchMicros from placement on the coordinator to the sequence in its agent's queue
 * @param reportMicros from a step's end on the agent to its tokens on the coordinator's clock
 * @param defaults the engine's settings on this device where a run leaves them to the backend
 * @param layouts step-time tables, one per (tensor-parallel size, decode path)
 * @param kvTransfer the time to move a sequence's KV between two agents (disaggregated prefill);
 *     null when not measured
 * @param tensorParallel how a tensor-parallel replica's step is scaled from the single-device table
 *     when the calibration has no table of that size; null: such layouts are refused
 * @param notes how the numbers were obtained (a projection's assumptions, one line each)
 */
public record StepCalibration(String kind, String device, String backend, String model, int blockSize, String date,
    String command, HostSharing host, double dispatchMicros, double reportMicros, EngineDefaults defaults,
    List<LayoutTable> layouts, KvTransferCost kvTransfer, TensorParallelScaling tensorParallel, List<String> notes) {

  /** The format's name and version, the file's "format" field. */
  public static final String FORMAT = "decodefleet-step-calibration/1";
  public static final String MEASURED = "measured";
  public static final String PROJECTION = "projection";

  public StepCalibration {
    if (!MEASURED.equals(kind) && !PROJECTION.equals(kind)) {
      throw new IllegalArgumentException("kind must be " + MEASURED + " or " + PROJECTION + ", got '" + kind + "'");
    }
    if (blockSize < 1) throw new IllegalArgumentException("block_size must be >= 1, got " + blockSize);
    if (!(dispatchMicros >= 0) || !(reportMicros >= 0)) {
      throw new IllegalArgumentException("dispatch_us and report_us must be >= 0");
    }
    if (layouts == null || layouts.isEmpty()) throw new IllegalArgumentException("layouts: at least one table");
    layouts = List.copyOf(layouts);
    notes = notes == null ? List.of() : List.copyOf(notes);
  }

  /** Whether it was computed rather than measured. */
  public boolean projection() {
    return PROJECTION.equals(kind);
  }

  /**
   * CPU agents sharing one host's cores (the embedded cluster: every agent an engine thread of one JVM).
   *
   * @param cores the host's processor cores
   * @param otherCpu CPU time the JVM's other threads (cluster messaging, the coordinator, garbage
   *     collection) spend per second of engine-thread CPU
   * @param agentCpu cores each agent node of the cluster keeps busy whatever it runs (its actor
   *     system's heartbeats, gossip and dispatchers): with {@code n} agents in the cluster the busy
   *     engines have {@code (cores - n × agentCpu) / (1 + otherCpu)} of the cores between them
   * @param stepInflation a step's time in the cluster's JVM against the step bench's, one agent alone
   *     (pauses, the JIT and cache misses the bench's JVM does not have, or, below 1, a bench timed
   *     while something else ran); 1: as benched
   * @param measuredBy how they were measured (e.g. the {@code coordinator calibrate-host} line); empty if not
   * @param stepCpuMicros CPU the JVM's other threads spend on each engine step (its report's messaging and
   *     the coordinator's handling of it), µs: a step of {@code w} µs takes {@code w + stepCpuMicros} of the
   *     engines' cores, so many short steps leave the engines less of them than a few long ones
   */
  public record HostSharing(int cores, double otherCpu, double agentCpu, double stepInflation, String measuredBy,
      double stepCpuMicros) {
    /** A host without a per-step cost. */
    public HostSharing(int cores, double otherCpu, double agentCpu, double stepInflation, String measuredBy) {
      this(cores, otherCpu, agentCpu, stepInflation, measuredBy, 0);
    }

    public HostSharing {
      if (!(stepCpuMicros >= 0) || Double.isInfinite(stepCpuMicros)) {
        throw new IllegalArgumentException("host step_cpu_us must be >= 0, got " + stepCpuMicros);
      }
      if (cores < 1) throw new IllegalArgumentException("host cores must be >= 1, got " + cores);
      if (!(otherCpu >= 0) || Double.isInfinite(otherCpu)) {
        throw new IllegalArgumentException("host other_cpu must be >= 0, got " + otherCpu);
      }
      if (!(agentCpu >= 0) || agentCpu >= cores) {
        throw new IllegalArgumentException("host agent_cpu must be in [0, cores), got " + agentCpu);
      }
      if (!(stepInflation > 0) || Double.isInfinite(stepInflation)) {
        throw new IllegalArgumentException("host step_inflation must be > 0, got " + stepInflation);
      }
      measuredBy = measuredBy == null ? "" : measuredBy;
    }

    /**
     * This host made {@code factor} times slower: every step and every step's cost to the other threads
     * takes that much longer (a shared host measured slower now than on its calibration's day).
     */
    public HostSharing slowedBy(double factor, String how) {
      if (!(factor > 0) || Double.isInfinite(factor)) throw new IllegalArgumentException("factor must be > 0, got " + factor);
      return new HostSharing(cores, otherCpu, agentCpu, stepInflation * factor, measuredBy + "; " + how,
          stepCpuMicros * factor);
    }

    /**
     * Cores the busy engines have between them in a cluster of {@code agents} agent nodes (at least a
     * tenth of a core: a host that small is not a host the calibration was measured on).
     */
    public double engineCores(int agents) {
      return Math.max(0.1, cores - agents * agentCpu) / (1 + otherCpu);
    }
  }

  /** This calibration with its host sharing replaced. */
  public StepCalibration withHost(HostSharing sharing, String note) {
    List<String> more = new ArrayList<>(notes);
    if (note != null) more.add(note);
    return new StepCalibration(kind, device, backend, model, blockSize, date, command, sharing, dispatchMicros,
        reportMicros, defaults, layouts, kvTransfer, tensorParallel, more);
  }

  /**
   * The engine's settings on this device where a run leaves them to the backend (an agent's KV pool
   * sized from its memory, its default batching caps and prefix caching).
   */
  public record EngineDefaults(int kvBlocks, int maxNumSeqs, int maxBatchedTokens, boolean prefixCaching) {
    public EngineDefaults {
      if (kvBlocks < 1 || maxNumSeqs < 1 || maxBatchedTokens < 1) {
        throw new IllegalArgumentException("engine defaults must be >= 1: kv_blocks " + kvBlocks + ", max_num_seqs "
            + maxNumSeqs + ", max_batched_tokens " + maxBatchedTokens);
      }
    }
  }

  /**
   * The steps of one layout on one decode path.
   *
   * @param tensorParallel devices per replica (1: a single device, the dp and disagg layouts)
   * @param decodePath how decode steps ran ("cpu" on the CPU backend)
   * @param paddedToBuckets whether a decode batch runs padded up to its batch bucket (CUDA graphs)
   * @param decode decode steps: every sequence one token at one context
   * @param prefill one prompt of some tokens from position 0, alone in its step; optionally also steps
   *     of several prompts from position 0 (a {@link PrefillPoint#prompts} above 1), which price a step's
   *     prompt tokens together (docs/simulation.md)
   * @param expertParallel the replica's devices split a mixture of experts' experts (ep=K), not its
   *     heads and MLP columns (tp=K); only with more than one device
   * @param busyCores on a CPU, the cores a step keeps busy (process CPU over wall time across the
   *     decode grid): about 1 for one engine thread, between 1 and K for K rank threads that wait on each
   *     other; NaN when not measured (a device's table)
   */
  public record LayoutTable(int tensorParallel, String decodePath, boolean paddedToBuckets, List<DecodePoint> decode,
      List<PrefillPoint> prefill, boolean expertParallel, double busyCores) {

    /** A single-device or tensor-parallel table. */
    public LayoutTable(int tensorParallel, String decodePath, boolean paddedToBuckets, List<DecodePoint> decode,
        List<PrefillPoint> prefill) {
      this(tensorParallel, decodePath, paddedToBuckets, decode, prefill, false, Double.NaN);
    }

    /** A table whose steps' CPU use was not measured. */
    public LayoutTable(int tensorParallel, String decodePath, boolean paddedToBuckets, List<DecodePoint> decode,
        List<PrefillPoint> prefill, boolean expertParallel) {
      this(tensorParallel, decodePath, paddedToBuckets, decode, prefill, expertParallel, Double.NaN);
    }

    public LayoutTable {
      if (!Double.isNaN(busyCores) && !(busyCores > 0 && busyCores <= 1024)) {
        throw new IllegalArgumentException("busy_cores must be in (0, 1024], got " + busyCores);
      }
      if (tensorParallel < 1) throw new IllegalArgumentException("tensor_parallel must be >= 1, got " + tensorParallel);
      if (expertParallel && tensorParallel < 2) {
        throw new IllegalArgumentException("an expert-parallel table needs tensor_parallel >= 2, got " + tensorParallel);
      }
      // The fields are not yet assigned here: label() would read tensor_parallel 0.
      String label = tensorParallel == 1 ? "dp" : (expertParallel ? "ep=" : "tp=") + tensorParallel;
      decode = List.copyOf(decode);
      prefill = List.copyOf(prefill);
      if (decode.isEmpty() || prefill.isEmpty()) {
        throw new IllegalArgumentException(label + " " + decodePath + ": needs decode and prefill points");
      }
      for (DecodePoint d : decode) {
        if (d.batch() < 1 || d.context() < 1 || !(d.stepMicros() > 0)) {
          throw new IllegalArgumentException(label + " decode point " + d + ": batch, context and step_us must be > 0");
        }
      }
      for (PrefillPoint p : prefill) {
        if (p.tokens() < 1 || !(p.stepMicros() > 0) || p.prompts() < 1 || p.prompts() > p.tokens()) {
          throw new IllegalArgumentException(label + " prefill point " + p + ": tokens and step_us must be > 0, "
              + "prompts from 1 to tokens");
        }
      }
      if (prefill.stream().noneMatch(p -> p.prompts() == 1)) {
        throw new IllegalArgumentException(label + " " + decodePath + ": needs a prefill point of one prompt");
      }
    }

    /** "dp", "tp=K" or "ep=K". */
    public String label() {
      return tensorParallel == 1 ? "dp" : (expertParallel ? "ep=" : "tp=") + tensorParallel;
    }
  }

  /** @param stepMicros one decode step of {@code batch} sequences each at {@code context} tokens */
  public record DecodePoint(int batch, int context, double stepMicros) {}

  /**
   * @param stepMicros one step that prefills {@code tokens} prompt tokens from position 0
   * @param prompts how many prompts share those tokens (each {@code tokens / prompts}, the first ones
   *     one more where it does not divide); 1: one prompt alone
   */
  public record PrefillPoint(int tokens, double stepMicros, int prompts) {

    /** One prompt alone in its step. */
    public PrefillPoint(int tokens, double stepMicros) {
      this(tokens, stepMicros, 1);
    }
  }

  /**
   * Moving a prefilled sequence's KV to a decode agent: {@code latencyMicros + bytes / bytesPerMicro},
   * with {@code bytesPerToken} of KV per token (all layers, K and V, in the KV pool's dtype).
   */
  public record KvTransferCost(double latencyMicros, double bytesPerMicro, long bytesPerToken) {
    public KvTransferCost {
      if (!(latencyMicros >= 0) || !(bytesPerMicro > 0) || bytesPerToken < 1) {
        throw new IllegalArgumentException("kv_transfer needs latency_us >= 0, bytes_per_us > 0 and bytes_per_token >= 1");
      }
    }

    public double micros(int tokens) {
      return latencyMicros + (double) tokens * bytesPerToken / bytesPerMicro;
    }
  }

  /**
   * A tensor-parallel step from the single-device one: {@code t1 / (K * efficiency) + 2 * layers *
   * allReduceMicros} (two all-reduces per layer, after attention and after the MLP).
   */
  public record TensorParallelScaling(double efficiency, double allReduceMicros, int layers) {
    public TensorParallelScaling {
      if (!(efficiency > 0 && efficiency <= 1) || !(allReduceMicros >= 0) || layers < 1) {
        throw new IllegalArgumentException("tensor_parallel needs efficiency in (0, 1], all_reduce_us >= 0, layers >= 1");
      }
    }
  }

  /** The table for {@code tensorParallel} devices on {@code decodePath} (any path when there is only one), if any. */
  public Optional<LayoutTable> table(int tensorParallel, String decodePath) {
    return table(false, tensorParallel, decodePath);
  }

  /**
   * The table for replicas of {@code devices} devices, splitting experts ({@code expertParallel}) or
   * heads and columns, on {@code decodePath} (any path when there is only one), if any.
   */
  public Optional<LayoutTable> table(boolean expertParallel, int devices, String decodePath) {
    List<LayoutTable> ofSize = ofLayout(expertParallel, devices);
    if (ofSize.size() == 1 && (decodePath == null || "cpu".equals(backend))) return Optional.of(ofSize.get(0));
    return ofSize.stream().filter(t -> t.decodePath().equals(decodePath)).findFirst();
  }

  /** The decode paths the tables of {@code tensorParallel} devices cover. */
  public List<String> decodePaths(int tensorParallel) {
    return decodePaths(false, tensorParallel);
  }

  /** The decode paths the tables of {@code devices}-device replicas of that kind cover. */
  public List<String> decodePaths(boolean expertParallel, int devices) {
    return ofLayout(expertParallel, devices).stream().map(LayoutTable::decodePath).toList();
  }

  private List<LayoutTable> ofLayout(boolean expertParallel, int devices) {
    return layouts.stream()
        .filter(t -> t.tensorParallel() == devices && (devices == 1 || t.expertParallel() == expertParallel))
        .toList();
  }

  /** The file's JSON text. */
  public String toJson() {
    StringBuilder sb = new StringBuilder("{\n");
    field(sb, "format", FORMAT);
    field(sb, "kind", kind);
    field(sb, "device", device);
    field(sb, "backend", backend);
    field(sb, "model", model);
    sb.append(f("  \"block_size\": %d,%n", blockSize));
    field(sb, "date", date);
    field(sb, "command", command);
    if (host != null) {
      sb.append(f("  \"host\": {\"cores\": %d, \"other_cpu\": %s, \"agent_cpu\": %s, \"step_inflation\": %s,%s"
          + " \"measured_by\": \"%s\"},%n", host.cores(), num(host.otherCpu()), num(host.agentCpu()),
          num(host.stepInflation()), host.stepCpuMicros() > 0 ? " \"step_cpu_us\": " + num(host.stepCpuMicros()) + ","
          : "", esc(host.measuredBy())));
    }
    sb.append(f("  \"dispatch_us\": %s,%n  \"report_us\": %s,%n", num(dispatchMicros), num(reportMicros)));
    sb.append(f("  \"defaults\": {\"kv_blocks\": %d, \"max_num_seqs\": %d, \"max_batched_tokens\": %d,"
        + " \"prefix_caching\": %s},%n", defaults.kvBlocks(), defaults.maxNumSeqs(), defaults.maxBatchedTokens(),
        defaults.prefixCaching()));
    if (kvTransfer != null) {
      sb.append(f("  \"kv_transfer\": {\"latency_us\": %s, \"bytes_per_us\": %s, \"bytes_per_token\": %d},%n",
          num(kvTransfer.latencyMicros()), num(kvTransfer.bytesPerMicro()), kvTransfer.bytesPerToken()));
    }
    if (tensorParallel != null) {
      sb.append(f("  \"tensor_parallel\": {\"efficiency\": %s, \"all_reduce_us\": %s, \"layers\": %d},%n",
          num(tensorParallel.efficiency()), num(tensorParallel.allReduceMicros()), tensorParallel.layers()));
    }
    List<String> quoted = new ArrayList<>();
    for (String n : notes) quoted.add("\"" + esc(n) + "\"");
    sb.append("  \"notes\": [").append(String.join(",\n    ", quoted)).append("],\n");
    sb.append("  \"layouts\": [\n");
    for (int i = 0; i < layouts.size(); i++) {
      LayoutTable t = layouts.get(i);
      sb.append(f("    {\"layout\": \"%s\", \"tensor_parallel\": %d,%s \"decode_path\": \"%s\", \"padded_to_buckets\": %s,%s%n",
          t.label(), t.tensorParallel(), t.expertParallel() ? " \"parallelism\": \"expert\"," : "",
          esc(t.decodePath()), t.paddedToBuckets(), Double.isNaN(t.busyCores()) ? ""
              : " \"busy_cores\": " + num(t.busyCores()) + ","));
      sb.append("     \"decode\": [\n");
      for (int j = 0; j < t.decode().size(); j++) {
        DecodePoint d = t.decode().get(j);
        sb.append(f("       {\"batch\": %d, \"context\": %d, \"step_us\": %s}%s%n", d.batch(), d.context(),
            num(d.stepMicros()), j + 1 < t.decode().size() ? "," : ""));
      }
      sb.append("     ],\n     \"prefill\": [\n");
      for (int j = 0; j < t.prefill().size(); j++) {
        PrefillPoint p = t.prefill().get(j);
        sb.append(f("       {\"tokens\": %d, %s\"step_us\": %s}%s%n", p.tokens(),
            p.prompts() == 1 ? "" : f("\"prompts\": %d, ", p.prompts()), num(p.stepMicros()),
            j + 1 < t.prefill().size() ? "," : ""));
      }
      sb.append("     ]}").append(i + 1 < layouts.size() ? ",\n" : "\n");
    }
    return sb.append("  ]\n}\n").toString();
  }

  private static void field(StringBuilder sb, String key, String value) {
    sb.append("  \"").append(key).append("\": \"").append(esc(value == null ? "" : value)).append("\",\n");
  }

  private static String num(double v) {
    if (!Double.isFinite(v)) throw new IllegalArgumentException("a calibration holds finite numbers only, got " + v);
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String esc(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      else b.append(c);
    }
    return b.toString();
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
