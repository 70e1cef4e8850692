package io.decodefleet.coordinator.kv;

import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.protocol.AgentCommand;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.InFlightSequence;
import java.util.Arrays;

/**
 * One sequence's KV on its way between two agents, from the coordinator's decision to both sides'
 * reports: a disaggregated hand-off ({@link DisaggregatedKvGroup}) or a drain migration ({@link KvDrainTransfers}).
 * Called on the coordinator's actor thread only.
 */
final class KvTransfer {
  final KvTransferKind kind;
  final FleetAgent from;
  final FleetAgent to;
  private final long startNanos;
  private final int fromTokens; // what the sending agent had reserved for the sequence
  private boolean sent;
  private boolean received;
  private double sendMillis = Double.NaN;
  private double receiveMillis = Double.NaN;
  private double waitMillis = Double.NaN;
  private long bytes;
  private KvTransferOutcome outcome;

  KvTransfer(KvTransferKind kind, FleetAgent from, FleetAgent to, long startNanos, int fromTokens) {
    this.kind = kind;
    this.from = from;
    this.to = to;
    this.startNanos = startNanos;
    this.fromTokens = fromTokens;
  }

  /**
   * Tells both sides to move sequence {@code seq}'s KV: the sender its pages, the receiver the
   * tokens the pages cover and what remains to generate (the prompt as the sender had it, then the
   * tokens generated since).
   *
   * @param numComputed positions the sender's KV holds
   */
  void start(InFlightSequence seq, int numComputed) {
    long id = seq.globalId;
    int[] tokens = seq.continuationPrompt();
    int promptLength = seq.prompt.length + seq.generatedAtPlacement;
    from.info.ref().tell(new AgentCommand.SendKv(id, to.index));
    to.info.ref().tell(new AgentCommand.ReceiveKv(id, Arrays.copyOf(tokens, promptLength),
        Arrays.copyOfRange(tokens, promptLength, tokens.length), seq.maxTokens - seq.generatedAtPlacement,
        numComputed, from.index, seq.sampling.afterGenerated(seq.generatedAtPlacement)));
  }

  /** Whether {@code r} from {@code agent} is a report this move still waits for. */
  boolean awaits(AgentReport.KvTransferred r, FleetAgent agent) {
    return r.sender() ? agent == from && !sent : agent == to && !received;
  }

  /** The sender's report: its reservation is released. */
  void sent(AgentReport.KvTransferred r) {
    sent = true;
    from.unreserve(fromTokens);
    sendMillis = r.deviceMillis();
    bytes = Math.max(bytes, r.bytes());
  }

  /** The receiver's report: the move's outcome, and its time since the decision. */
  void received(AgentReport.KvTransferred r) {
    received = true;
    receiveMillis = r.deviceMillis();
    bytes = Math.max(bytes, r.bytes());
    outcome = r.outcome();
    waitMillis = (System.nanoTime() - startNanos) / 1e6;
  }

  /** Both sides are heard from (or the silent one is gone). */
  boolean done() {
    return sent && received;
  }

  /**
   * {@code agent} left the cluster: a side of it that has not reported never will (a lost sender's
   * reservation went with it; the coordinator re-places a lost receiver's sequences itself).
   *
   * @return whether the move is done now
   */
  boolean agentLost(FleetAgent agent) {
    boolean changed = false;
    if (agent == from && !sent) {
      sent = true;
      changed = true;
    }
    if (agent == to && !received) {
      received = true;
      changed = true;
    }
    return changed && done();
  }

  /** Adds a finished move that moved KV (decoded from it, or re-prefilled by the receiver) to {@code log}. */
  void logTo(KvTransferLog log, long sequenceId) {
    if (outcome == KvTransferOutcome.DONE || outcome == KvTransferOutcome.RECOMPUTE) {
      log.add(sequenceId, from.info.agentId(), to.info.agentId(), bytes, sendMillis, receiveMillis, waitMillis,
          outcome == KvTransferOutcome.RECOMPUTE, kind);
    }
  }
}
