package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.observability.RequestLogContext;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;

/**
 * The unfinished sequences and where they run: places each on an agent of the fleet (in the
 * disaggregated layout a prefill agent first), streams their tokens to their submitters, moves
 * them off agents that leave or drain (re-prefilled elsewhere with the prompt and every token so
 * far, so the stream continues without gaps or duplicates; or, through {@code KvDrainTransfers}, with
 * their KV) and keeps each agent's projected KV reservation. Owned by the {@code Coordinator} and called on its actor thread only.
 *
 * <p>Its log lines about a sequence carry the sequence's request id in the MDC ({@link
 * RequestLogContext}): where it was placed, moved, finished or failed (debug), re-placed (info).
 */
public final class SequencePlacement {
  /**
   * Most sequences the coordinator places on one agent (running there or waiting in its scheduler).
   * Each serve node bounds its own requests (--max-concurrent-requests, 4096 by default), but the
   * Coordinator takes those of every serve node and of a benchmark run: past this bound on every agent
   * a new sequence fails BUSY rather than queue on (sequences moved off a lost agent still go).
   */
  public static final int MAX_SEQUENCES_PER_AGENT = 4096;

  private final List<FleetAgent> fleet;
  private final Logger log;
  private final Map<Long, InFlightSequence> inFlight = new HashMap<>();
  private final PlacementRule rule;
  private long migrations;
  private long kvMigrations;
  private long replacements;

  /** @param fleet the coordinator's fleet, read as it changes */
  public SequencePlacement(List<FleetAgent> fleet, Logger log) {
    this(fleet, log, MAX_SEQUENCES_PER_AGENT);
  }

  SequencePlacement(List<FleetAgent> fleet, Logger log, int maxSequencesPerAgent) {
    this.fleet = fleet;
    this.log = log;
    this.rule = new PlacementRule(maxSequencesPerAgent);
  }

  /** The fleet now serves {@code model}: prompts are hashed with its salt for prefix-aware placement. */
  public void useModel(io.decodefleet.agent.engine.ModelSpec model) {
    rule.useModel(model);
  }

  /** New sequences go through this layout's prefill agents from now on; null: data-parallel. */
  public void useDisaggregation(PrefillStage layout) {
    rule.usePrefillStage(layout);
  }

  public InFlightSequence get(long globalId) {
    return inFlight.get(globalId);
  }

  public int count() {
    return inFlight.size();
  }

  /** Sequences moved off an agent that was lost or drained, since the coordinator started. */
  public long migrations() {
    return migrations;
  }

  /** Of {@link #migrations}, those moved with their KV and decoded from it on arrival. */
  public long kvMigrations() {
    return kvMigrations;
  }

  /** Sequences taken off their agent and placed anew by {@link #replace}, since the coordinator started. */
  public long replacements() {
    return replacements;
  }

  /** A sequence moved with its KV decodes from it on its new agent: one more KV migration. */
  public void movedWithKv() {
    kvMigrations++;
  }

  /**
   * Moves {@code seq} off its (drained) agent to {@code to}, where its KV arrives by transfer: it
   * streams from {@code to} from now on. Its old agent's reservation is the caller's to end (when
   * the send is over).
   */
  public void handOver(InFlightSequence seq, FleetAgent to, String cause) {
    FleetAgent from = seq.agent;
    seq.agent = to;
    seq.reservedTokens = seq.totalTokens();
    to.reserve(seq.reservedTokens);
    seq.migrations++;
    migrations++;
    seq.subscriber.tell(new SequenceEvent.Migrated(seq.requestId, from.info.agentId(), to.info.agentId(), cause));
  }

  /**
   * Checks a submitted sequence's own fields and places it: a bad field fails it as INVALID with a
   * reason that starts with the field's name, as the APIs report it.
   */
  public void submit(long globalId, long requestId, int[] prompt, int maxTokens, SamplingParams sampling,
      int worldSize, String placement, ActorRef<SequenceEvent> subscriber, int vocabSize) {
    String invalid = prompt.length == 0 ? "prompt_token_ids: the prompt is empty"
        : maxTokens < 1 ? "max_tokens: must be >= 1, got " + maxTokens
        : sampling.problems(vocabSize).stream().findFirst().orElse(null);
    if (invalid != null) {
      subscriber.tell(new SequenceEvent.Failed(requestId, FailureKind.INVALID, invalid, System.nanoTime()));
      return;
    }
    String busy = rule.busy(fleet, worldSize, prompt.length + maxTokens);
    if (busy != null) {
      subscriber.tell(new SequenceEvent.Failed(requestId, FailureKind.BUSY, busy, System.nanoTime()));
      return;
    }
    place(new InFlightSequence(globalId, requestId, prompt.clone(), maxTokens, sampling, worldSize, placement,
        subscriber));
  }

  /**
   * Forgets {@code subscriber}'s request {@code requestId} and tells its agent to stop it. A
   * sequence whose KV is in a transfer is left to finish there: its tokens are no longer streamed.
   */
  public void cancel(long requestId, ActorRef<SequenceEvent> subscriber) {
    InFlightSequence seq = inFlight.values().stream().filter(s -> s.isRequest(requestId, subscriber)).findFirst()
        .orElse(null);
    if (seq == null) return;
    release(seq);
    seq.agent.info.ref().tell(new AgentCommand.AbortSequences(List.of(seq.globalId)));
  }

  /**
   * Places (or re-places) a sequence by the {@link PlacementRule} and starts it there; fails it if
   * no agent can take it.
   */
  public void place(InFlightSequence seq) {
    PlacementRule.Outcome outcome = rule.place(fleet, seq);
    if (outcome instanceof PlacementRule.Refused refused) {
      inFlight.remove(seq.globalId);
      debug(seq, "sequence {} not placed: {}", seq.globalId, refused.reason());
      seq.subscriber.tell(new SequenceEvent.Failed(seq.requestId, refused.kind(), refused.reason(), System.nanoTime()));
      return;
    }
    PlacementRule.Placed placed = (PlacementRule.Placed) outcome;
    inFlight.put(seq.globalId, seq);
    debug(seq, "sequence {} on {}: {} tokens of KV reserved{}", seq.globalId, placed.agent().info.agentId(),
        seq.reservedTokens, placed.spec().prefillOnly() ? ", prefill only" : "");
    placed.agent().info.ref().tell(new AgentCommand.StartSequences(List.of(placed.spec())));
  }

  /** Streams a step's tokens of the sequences that run on {@code agent}, and ends those that finished. */
  public void stepped(AgentReport.StepReport m, FleetAgent agent) {
    long now = System.nanoTime();
    for (SequenceTokens t : m.tokens()) {
      InFlightSequence seq = inFlight.get(t.sequenceId());
      if (seq == null || seq.agent != agent) continue;
      seq.append(t.tokens());
      seq.subscriber.tell(new SequenceEvent.Tokens(seq.requestId, t.tokens(), agent.info.agentId(), now));
    }
    for (SequenceFinished f : m.finished()) {
      InFlightSequence seq = inFlight.get(f.sequenceId());
      if (seq == null || seq.agent != agent) continue;
      release(seq);
      debug(seq, "sequence {} finished on {}: {}, {} output tokens", seq.globalId, agent.info.agentId(), f.reason(),
          f.outputTokens());
      seq.subscriber.tell(new SequenceEvent.Finished(seq.requestId, agent.info.agentId(), f.preemptions(), f.verify(),
          f.reason(), f.queueNanos(), f.prefillNanos(), now));
    }
  }

  public void failed(AgentReport.SequenceFailed m, FleetAgent agent) {
    InFlightSequence seq = inFlight.get(m.sequenceId());
    if (seq == null || seq.agent != agent) return;
    release(seq);
    debug(seq, "sequence {} failed on {}: {}", seq.globalId, agent.info.agentId(), m.reason());
    seq.subscriber.tell(new SequenceEvent.Failed(seq.requestId, FailureKind.AGENT, agent.info.agentId() + ": "
        + m.reason(), System.nanoTime()));
  }

  /** Takes {@code seq} off its agent and places it anew, re-prefilled with its tokens so far. */
  public void replace(InFlightSequence seq, String cause) {
    try (RequestLogContext ignored = RequestLogContext.of(seq.requestId)) {
      log.info("sequence {} re-placed: {}", seq.globalId, cause);
    }
    replacements++;
    release(seq);
    place(seq);
  }

  /** A debug line about {@code seq}, with its request id in the MDC. */
  private void debug(InFlightSequence seq, String format, Object... args) {
    if (!log.isDebugEnabled()) return;
    try (RequestLogContext ignored = RequestLogContext.of(seq.requestId)) {
      log.debug(format, args);
    }
  }

  private void release(InFlightSequence seq) {
    inFlight.remove(seq.globalId);
    seq.agent.unreserve(seq.reservedTokens);
  }

  /** Moves every unfinished sequence off {@code agent}, which takes no new work from now on ({@link PlacementRule#evacuate}). */
  public void evacuate(FleetAgent agent, List<Long> sequenceIds, String cause) {
    List<InFlightSequence> onAgent = sequenceIds.stream().map(inFlight::get).filter(s -> s != null).toList();
    PlacementRule.evacuate(agent, onAgent, new PlacementRule.Evacuation() {
      @Override
      public void release(InFlightSequence seq) {
        SequencePlacement.this.release(seq);
      }

      @Override
      public void finished(InFlightSequence seq) {
        seq.subscriber.tell(new SequenceEvent.Finished(seq.requestId, agent.info.agentId(), 0,
            VerifyResult.NOT_CHECKED, "length", System.nanoTime()));
      }

      @Override
      public void replace(InFlightSequence seq) {
        migrations++;
        place(seq);
        if (seq.agent != agent && inFlight.containsKey(seq.globalId)) {
          seq.subscriber.tell(new SequenceEvent.Migrated(seq.requestId, agent.info.agentId(),
              seq.agent.info.agentId(), cause));
        }
      }
    });
  }

  /** The unfinished sequences on {@code agent}, by id. */
  public List<Long> on(FleetAgent agent) {
    return inFlight.values().stream().filter(s -> s.agent == agent).map(s -> s.globalId).sorted().toList();
  }
}
