package io.decodefleet.agent.observability;

import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.protocol.AgentReport;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * What the agents of one node know, for the node's {@code /metrics} (on its Pekko Management port,
 * {@link AgentMetricsRoutes}): the {@link EngineMetrics} of every agent, and per agent the tokens it
 * generated, the sequences it finished (by reason), how long they queued in its engine and how long
 * their prefill took (first step's start to the end of the step of their first token). One per
 * ActorSystem, i.e. one per gpu-agent daemon; its agents feed it with the reports they send.
 */
public final class AgentMetrics implements Extension {

  private static final ExtensionId<AgentMetrics> ID = new ExtensionId<>() {
    @Override
    public AgentMetrics createExtension(ActorSystem<?> system) {
      return new AgentMetrics();
    }
  };

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final EngineMetrics engine = new EngineMetrics(registry);
  private final MetricsEndpoint endpoint = new MetricsEndpoint(registry);
  private final Counter generationTokens;
  private final Counter finished;
  private final Histogram queueTime;
  private final Histogram prefillTime;

  public static AgentMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  AgentMetrics() {
    generationTokens = Counter.builder().name("vllm:generation_tokens_total")
        .help("Tokens the agent generated.").labelNames("model_name", "agent").register(registry);
    finished = Counter.builder().name("vllm:request_success_total")
        .help("Sequences that finished on the agent, by finish reason (stop or length).")
        .labelNames("model_name", "agent", "finished_reason").register(registry);
    queueTime = Histogram.builder().name("vllm:request_queue_time_seconds")
        .help("Time a sequence waited in the agent's queue before its first scheduled step.")
        .labelNames("model_name", "agent").classicOnly().classicUpperBounds(LatencyBuckets.REQUEST)
        .register(registry);
    prefillTime = Histogram.builder().name("vllm:request_prefill_time_seconds")
        .help("Time from a sequence's first scheduled step to the end of the step that gave its first token.")
        .labelNames("model_name", "agent").classicOnly().classicUpperBounds(LatencyBuckets.REQUEST)
        .register(registry);
  }

  /** A report an agent of this node sends its coordinator, serving {@code model}. */
  public void reported(String model, AgentReport report) {
    engine.reported(model, report);
    if (!(report instanceof AgentReport.StepReport m)) return;
    long tokens = 0;
    for (SequenceTokens t : m.tokens()) tokens += t.tokens().length;
    if (tokens > 0) generationTokens.labelValues(model, m.agentId()).inc(tokens);
    for (SequenceFinished f : m.finished()) {
      finished.labelValues(model, m.agentId(), f.reason()).inc();
      if (f.queueNanos() >= 0) queueTime.labelValues(model, m.agentId()).observe(f.queueNanos() / 1e9);
      if (f.prefillNanos() >= 0) prefillTime.labelValues(model, m.agentId()).observe(f.prefillNanos() / 1e9);
    }
  }

  public MetricsEndpoint endpoint() {
    return endpoint;
  }
}
