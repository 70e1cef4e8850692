package io.decodefleet.agent.observability;

import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.protocol.AgentReport;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-agent engine metrics, fed with the reports agents send their coordinator: the same families on a
 * gpu-agent daemon (its own agents) and on the coordinator (every agent of its fleet). Queue gauges
 * and KV usage carry vLLM's names; step time by batch bucket and decode path, graph replays vs eager
 * steps, the device's idle gap between steps, KV transfers (over NCCL between CUDA agents) and the
 * all-reduces of tensor-parallel agents are DecodeFleet's own. Every series is labelled {@code model_name} and {@code agent}. Thread-safe.
 */
public final class EngineMetrics {
  private final Gauge running;
  private final Gauge waiting;
  private final Gauge kvUsage;
  private final Counter preemptions;
  private final Histogram stepSeconds;
  private final Counter steps;
  private final Histogram idleGap;
  private final Counter kvTransferBytes;
  private final Histogram kvTransferSeconds;
  private final Counter kvTransfers;
  private final Counter allReduceBytes;
  private final Counter allReduces;
  private final Counter allReduceSeconds;
  private final Counter prefixQueries;
  private final Counter prefixHits;
  private final Counter prefixDeferred;
  /** KV blocks of each agent, from its ModelLoaded: the denominator of its KV usage. */
  private final Map<String, Integer> kvBlocks = new ConcurrentHashMap<>();
  /** The model each agent's gauges are labelled with now. */
  private final Map<String, String> gaugedModel = new ConcurrentHashMap<>();

  public EngineMetrics(PrometheusRegistry registry) {
    running = Gauge.builder().name("vllm:num_requests_running")
        .help("Sequences in the agent's running batch, as of its last step.")
        .labelNames("model_name", "agent").register(registry);
    waiting = Gauge.builder().name("vllm:num_requests_waiting")
        .help("Sequences waiting in the agent's queue, as of its last step.")
        .labelNames("model_name", "agent").register(registry);
    kvUsage = Gauge.builder().name("vllm:kv_cache_usage_perc")
        .help("Fraction of the agent's KV-cache blocks in use (0 to 1), as of its last step.")
        .labelNames("model_name", "agent").register(registry);
    preemptions = Counter.builder().name("vllm:num_preemptions_total")
        .help("Sequences preempted (by recompute) to free KV blocks.")
        .labelNames("model_name", "agent").register(registry);
    stepSeconds = Histogram.builder().name("decodefleet_step_duration_seconds")
        .help("Wall time of one engine step (schedule, execute, update), by batch bucket and decode path.")
        .labelNames("model_name", "agent", "batch_bucket", "path").classicOnly()
        .classicUpperBounds(LatencyBuckets.STEP).register(registry);
    steps = Counter.builder().name("decodefleet_steps_total")
        .help("Engine steps by how the backend ran them: a CUDA graph replay (path ending in 'graph') or eager "
            + "launches, or 'cpu'.")
        .labelNames("model_name", "agent", "path").register(registry);
    idleGap = Histogram.builder().name("decodefleet_gpu_idle_gap_seconds")
        .help("Device time idle between the end of one step's work and the start of the next (CUDA agents).")
        .labelNames("model_name", "agent").classicOnly().classicUpperBounds(LatencyBuckets.IDLE_GAP)
        .register(registry);
    kvTransferBytes = Counter.builder().name("decodefleet_kv_transfer_bytes_total")
        .help("Bytes of KV pages moved between agents (over NCCL between CUDA agents), by direction.")
        .labelNames("model_name", "agent", "direction").register(registry);
    kvTransferSeconds = Histogram.builder().name("decodefleet_kv_transfer_duration_seconds")
        .help("Device time of one side of a KV transfer (pack and send, or receive and unpack).")
        .labelNames("model_name", "agent", "direction").classicOnly().classicUpperBounds(LatencyBuckets.KV_TRANSFER)
        .register(registry);
    kvTransfers = Counter.builder().name("decodefleet_kv_transfers_total")
        .help("Sides of KV transfers that ended, by direction and outcome.")
        .labelNames("model_name", "agent", "direction", "outcome").register(registry);
    allReduceBytes = Counter.builder().name("decodefleet_all_reduce_bytes_total")
        .help("Bytes each rank of a tensor-parallel agent contributed to the all-reduces after every layer's o and "
            + "down projections (over NCCL on CUDA agents): 2 per layer x the step's tokens x hidden size x 4 "
            + "(float32); a CUDA graph replay's padding rows are not counted.")
        .labelNames("model_name", "agent").register(registry);
    allReduces = Counter.builder().name("decodefleet_all_reduces_total")
        .help("All-reduces a tensor-parallel agent ran in its engine steps: 2 per layer per step.")
        .labelNames("model_name", "agent").register(registry);
    allReduceSeconds = Counter.builder().name("decodefleet_all_reduce_seconds_total")
        .help("Device time of the all-reduce kernel family in profiled steps only (--profile-steps; rank 0's "
            + "timing); unprofiled steps add nothing.")
        .labelNames("model_name", "agent").register(registry);
    prefixQueries = Counter.builder().name("vllm:prefix_cache_queries_total")
        .help("Prompt tokens looked up in the agent's prefix cache (0 where prefix caching is off).")
        .labelNames("model_name", "agent").register(registry);
    prefixHits = Counter.builder().name("vllm:prefix_cache_hits_total")
        .help("Of the prompt tokens looked up, those found in the prefix cache (their prefill skipped).")
        .labelNames("model_name", "agent").register(registry);
    prefixDeferred = Counter.builder().name("decodefleet_prefix_deferred_admissions_total")
        .help("Requests admitted after waiting for a prefix another request was prefilling.")
        .labelNames("model_name", "agent").register(registry);
  }

  /** An agent's report; those that carry no metric are ignored. */
  public void reported(String model, AgentReport report) {
    if (report instanceof AgentReport.ModelLoaded m) {
      kvBlocks.put(m.agentId(), m.kvBlocks());
    } else if (report instanceof AgentReport.StepReport m) {
      stepped(model, m);
    } else if (report instanceof AgentReport.KvTransferred m) {
      transferred(model, m);
    } else if (report instanceof AgentReport.PrefixCacheReport m && m.queriedTokens() > 0) {
      prefixQueries.labelValues(model, m.agentId()).inc(m.queriedTokens());
      prefixHits.labelValues(model, m.agentId()).inc(m.hitTokens());
      prefixDeferred.labelValues(model, m.agentId()).inc(m.deferredAdmissions());
    }
  }

  /** Drops the gauges of every agent not in {@code agents} (lost, or out of the fleet). */
  public void retainGauges(Set<String> agents) {
    gaugedModel.forEach((agent, model) -> {
      if (!agents.contains(agent) && gaugedModel.remove(agent, model)) removeGauges(agent, model);
    });
  }

  private void stepped(String model, AgentReport.StepReport m) {
    String agent = m.agentId();
    String before = gaugedModel.put(agent, model);
    if (before != null && !before.equals(model)) removeGauges(agent, before);
    running.labelValues(model, agent).set(m.running());
    waiting.labelValues(model, agent).set(m.waiting());
    int blocks = kvBlocks.getOrDefault(agent, 0);
    if (blocks > 0) kvUsage.labelValues(model, agent).set(1.0 - (double) m.freeKvBlocks() / blocks);
    if (m.preempted() > 0) preemptions.labelValues(model, agent).inc(m.preempted());
    String path = m.path().isEmpty() ? "unknown" : m.path();
    steps.labelValues(model, agent, path).inc();
    if (m.numSequences() > 0) {
      stepSeconds.labelValues(model, agent, String.valueOf(BatchBuckets.bucketOf(m.numSequences())), path)
          .observe(m.stepNanos() / 1e9);
    }
    if (!Double.isNaN(m.idleGapMicros())) idleGap.labelValues(model, agent).observe(m.idleGapMicros() / 1e6);
    if (m.allReduces().operations() > 0) {
      allReduces.labelValues(model, agent).inc(m.allReduces().operations());
      allReduceBytes.labelValues(model, agent).inc(m.allReduces().bytes());
      double micros = m.profile() == null ? 0 : m.profile().familyMicros().get(KernelFamily.ALL_REDUCE.ordinal());
      if (micros > 0) allReduceSeconds.labelValues(model, agent).inc(micros / 1e6);
    }
  }

  private void transferred(String model, AgentReport.KvTransferred m) {
    String direction = m.sender() ? "sent" : "received";
    kvTransfers.labelValues(model, m.agentId(), direction, m.outcome().name().toLowerCase(Locale.ROOT)).inc();
    if (m.bytes() > 0) kvTransferBytes.labelValues(model, m.agentId(), direction).inc(m.bytes());
    if (!Double.isNaN(m.deviceMillis())) {
      kvTransferSeconds.labelValues(model, m.agentId(), direction).observe(m.deviceMillis() / 1e3);
    }
  }

  private void removeGauges(String agent, String model) {
    running.remove(model, agent);
    waiting.remove(model, agent);
    kvUsage.remove(model, agent);
  }
}
