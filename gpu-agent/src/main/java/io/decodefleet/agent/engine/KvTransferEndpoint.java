package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.kv.IncomingKvTransfer;
import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import io.decodefleet.agent.engine.kv.KvTransport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The engine's side of KV transfers between agents (a prefill handed to a decode agent, or a
 * drained agent's sequences moving on): its member of the KV group, the transfers in flight, and
 * what the end of each means for the scheduler.
 *
 * <ul>
 *   <li>Sending: a parked sequence's first {@code blocksFor(numComputed)} blocks go to the peer;
 *       the blocks return to the pool once the device is done with them.
 *   <li>Receiving: blocks for the arriving positions are allocated first and the KV is unpacked
 *       into them; when it is in place the sequence queues for decoding. When the pool has no
 *       room, the data is still received (the pair's sends and receives must keep matching) and
 *       discarded, and the sequence re-prefills here instead.
 *   <li>Failures: a transfer that fails is reported FAILED (the coordinator then aborts the group
 *       and re-places the sequence); blocks the device might still touch are never reused.
 *   <li>Order: the coordinator tells the peer to take the other half of every send or receive it
 *       asks for, and a pair's halves match by the order they are issued, not by sequence. A half
 *       this side does not issue (a send of a sequence not parked here, a send or receive the
 *       transport refused) would hand the peer's matching half the pair's next payload, another
 *       sequence's KV, so the group is aborted here at once, before this side issues anything more.
 * </ul>
 *
 * Engine thread only, except {@link #abort}.
 */
final class KvTransferEndpoint {

  private record Pending(long sequenceId, boolean sender, KvTransport.Transfer transfer, Sequence arriving,
      boolean discard) {}

  private final String agentId;
  private final Consumer<EngineEvent> events;
  private final Scheduler scheduler;
  private final Set<Long> inFlight;
  private final int blockSize;
  private volatile KvTransport transport;
  /** Whether this engine joined a group (kept after it left: a crash is reported to the group). */
  private boolean joinedOnce;
  private final List<Pending> pending = new ArrayList<>();
  /** Receives whose sequence was handed back by a drain while its KV was arriving. */
  private final Set<Long> orphaned = new HashSet<>();

  /** @param inFlight the engine's unfinished sequence ids: arriving ones join it */
  KvTransferEndpoint(String agentId, Consumer<EngineEvent> events, Scheduler scheduler, Set<Long> inFlight, int blockSize) {
    this.agentId = agentId;
    this.events = events;
    this.scheduler = scheduler;
    this.inFlight = inFlight;
    this.blockSize = blockSize;
  }

  void newGroupId(Backend backend) {
    try {
      events.accept(new EngineEvent.KvGroupIdCreated(backend.newKvGroupId()));
    } catch (RuntimeException e) {
      events.accept(new EngineEvent.KvGroupFailed(describe(e)));
    }
  }

  /** Joins a group (leaving the previous one first); answers KvGroupJoined or KvGroupFailed. */
  void join(Backend backend, KvGroupSpec spec) {
    if (transport != null) {
      close();
    }
    try {
      Optional<String> unsupported = backend.kvTransferUnsupported();
      if (unsupported.isPresent()) {
        throw new UnsupportedOperationException(unsupported.get());
      }
      transport = backend.joinKvGroup(spec);
      joinedOnce = true;
      events.accept(new EngineEvent.KvGroupJoined(spec.rank(), transport.description()));
    } catch (RuntimeException e) {
      events.accept(new EngineEvent.KvGroupFailed(describe(e)));
    }
  }

  /** Aborts the group now; any thread. Transfers in flight fail when next polled. */
  void abort(String reason) {
    KvTransport t = transport;
    if (t != null) {
      t.abort(reason);
    }
  }

  /** Whether this engine is in a usable KV group: a drain can then keep KV for a transfer. */
  boolean canSend() {
    return unusable() == null;
  }

  boolean busy() {
    return !pending.isEmpty();
  }

  /** Sends parked sequence {@code id}'s KV to {@code peer}; a negative peer releases it unsent. */
  void send(long id, int peer) {
    if (!scheduler.isParked(id)) {
      String why = "sequence " + id + " is not waiting for a hand-off on " + agentId;
      if (peer >= 0) abortUnmatched(why);
      report(id, true, 0, KvTransferOutcome.FAILED, why);
      return;
    }
    if (peer < 0) {
      scheduler.releaseParked(id, false);
      report(id, true, 0, KvTransferOutcome.DISCARDED, "released without sending");
      return;
    }
    String unusable = unusable();
    if (unusable != null) {
      scheduler.releaseParked(id, false);
      report(id, true, 0, KvTransferOutcome.FAILED, unusable);
      return;
    }
    int[] pages = scheduler.parkedBlocks(id);
    try {
      pending.add(new Pending(id, true, transport.send(peer, pages), null, false));
    } catch (RuntimeException e) {
      scheduler.releaseParked(id, true); // whatever was enqueued may still read them
      abortUnmatched("sending sequence " + id + ": " + describe(e));
      report(id, true, 0, KvTransferOutcome.FAILED, describe(e));
    }
  }

  /** Takes in a sequence whose KV arrives from {@code a.peer()}. */
  void receive(IncomingKvTransfer a) {
    String unusable = unusable();
    if (unusable != null) {
      report(a.sequenceId(), false, 0, KvTransferOutcome.FAILED, unusable);
      return;
    }
    int numPages = (a.numComputedTokens() + blockSize - 1) / blockSize;
    Sequence seq = null;
    String refused = null;
    try {
      seq = Sequence.continued(a.sequenceId(), a.promptTokens(), a.outputTokens(), a.maxTokens(),
          a.numComputedTokens(), a.sampling());
      refused = scheduler.rejectionReason(a.promptTokens().length, a.maxTokens()).orElse(null);
    } catch (IllegalArgumentException e) {
      refused = e.getMessage();
    }
    int[] pages = null;
    if (refused == null) {
      try {
        pages = scheduler.receive(seq);
      } catch (IllegalArgumentException e) {
        refused = e.getMessage();
      }
    }
    try {
      KvTransport.Transfer t = transport.receive(a.peer(), numPages, pages);
      // A refused sequence is still received (and discarded) so that the pair's order holds.
      pending.add(new Pending(a.sequenceId(), false, t, refused == null ? seq : null, pages == null));
      if (refused != null) {
        orphaned.add(a.sequenceId());
        report(a.sequenceId(), false, 0, KvTransferOutcome.FAILED, refused);
      } else {
        inFlight.add(a.sequenceId());
      }
    } catch (RuntimeException e) {
      if (pages != null) {
        scheduler.abandonReceiving(a.sequenceId()); // whatever was enqueued may still write them
      }
      abortUnmatched("receiving sequence " + a.sequenceId() + ": " + describe(e));
      report(a.sequenceId(), false, 0, KvTransferOutcome.FAILED, describe(e));
    }
  }

  /** Finishes the transfers that are over. */
  void poll() {
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.transfer().poll()) {
        it.remove();
        finish(p);
      }
    }
  }

  private void finish(Pending p) {
    KvTransport.Transfer t = p.transfer();
    String failure = t.failure();
    long id = p.sequenceId();
    if (p.sender()) {
      scheduler.releaseParked(id, !t.pagesQuiet());
      report(id, true, t.bytes(), t.millis(), failure == null ? KvTransferOutcome.DONE : KvTransferOutcome.FAILED,
          failure);
      return;
    }
    boolean wasOrphaned = orphaned.remove(id);
    if (!p.discard()) {
      if (wasOrphaned || failure != null) {
        if (t.pagesQuiet()) {
          scheduler.dropReceiving(id);
        } else {
          scheduler.abandonReceiving(id);
        }
      } else {
        scheduler.activate(id);
      }
    }
    if (wasOrphaned) {
      if (p.arriving() != null) {
        report(id, false, t.bytes(), t.millis(), KvTransferOutcome.DISCARDED, "the agent drained while the KV arrived");
      }
      return;
    }
    if (failure != null) {
      inFlight.remove(id);
      report(id, false, t.bytes(), Double.NaN, KvTransferOutcome.FAILED, failure);
    } else if (p.discard()) {
      scheduler.add(Sequence.continued(id, p.arriving().promptTokens(), p.arriving().outputTokens(),
          p.arriving().maxTokens(), 0, p.arriving().sampling()));
      report(id, false, t.bytes(), t.millis(), KvTransferOutcome.RECOMPUTE, "no free KV blocks: re-prefilling here");
    } else {
      report(id, false, t.bytes(), t.millis(), KvTransferOutcome.DONE, "");
    }
  }

  /**
   * A drain hands back every sequence whose KV is still arriving: their receives complete (the
   * senders still send), but the sequences are not decoded here. Returns their ids.
   */
  List<Long> orphanReceives() {
    List<Long> ids = new ArrayList<>();
    for (Pending p : pending) {
      if (!p.sender() && p.arriving() != null && orphaned.add(p.sequenceId())) {
        ids.add(p.sequenceId());
      }
    }
    return ids;
  }

  /** After an engine crash: tells the coordinator the group broke here. */
  void reportCrash(String reason) {
    if (joinedOnce) {
      events.accept(new EngineEvent.KvGroupFailed("engine crashed: " + reason));
    }
  }

  /** Leaves the group (the engine is stopping or joining anew); never throws. */
  void close() {
    KvTransport t = transport;
    transport = null;
    if (t == null) {
      return;
    }
    try {
      t.close();
    } catch (RuntimeException e) {
      // Leaving is best effort: the engine is stopping or replacing the group anyway.
    }
    pending.clear();
    orphaned.clear();
  }

  /** A half of a pair was not issued: the pair's order is lost, so nothing more may be issued in this group. */
  private void abortUnmatched(String why) {
    KvTransport t = transport;
    if (t != null && t.abortReason() == null) {
      t.abort("the pair's order is lost on " + agentId + " (" + why + ")");
    }
  }

  private String unusable() {
    KvTransport t = transport;
    if (t == null) {
      return agentId + " is in no KV-transfer group";
    }
    String aborted = t.abortReason();
    return aborted == null ? null : "the KV-transfer group was aborted: " + aborted;
  }

  private void report(long id, boolean sender, long bytes, KvTransferOutcome outcome, String detail) {
    report(id, sender, bytes, Double.NaN, outcome, detail);
  }

  private void report(long id, boolean sender, long bytes, double millis, KvTransferOutcome outcome, String detail) {
    events.accept(new EngineEvent.KvTransferEnded(id, sender, bytes,
        outcome == KvTransferOutcome.FAILED ? Double.NaN : millis, outcome, detail == null ? "" : detail));
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + ": " + (m == null ? "" : m.replaceAll("\\s*\\R\\s*", " "));
  }
}
