package io.decodefleet.agent.engine;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * In-batch prefix deferral, after SGLang's and vLLM's schedulers: the full prompt blocks that running
 * sequences will prefill and have not registered in the prefix cache yet, by content hash. A waiting
 * sequence whose next uncached block is one of them would prefill the same tokens a second time in
 * parallel; it is held back instead, and admitted once the owner has registered the blocks (it then
 * finds them cached) or has left the batch without them (finished, aborted, parked, preempted: only
 * running sequences are owners, so a follower never waits for a sequence that is itself waiting).
 * Built afresh for each step's admissions, so nothing has to be undone when an owner goes away.
 */
final class PrefixesInFlight {
  private final Set<Long> hashes = new HashSet<>();

  /** The blocks in flight for the running sequences of a step. */
  static PrefixesInFlight of(List<Sequence> running) {
    PrefixesInFlight inFlight = new PrefixesInFlight();
    for (Sequence seq : running) inFlight.add(seq);
    return inFlight;
  }

  /**
   * Adds a running sequence's blocks in flight: those of its looked-up chain past the blocks it
   * already has a hash for (cached or registered). A decoding sequence adds none.
   */
  void add(Sequence seq) {
    long[] chain = seq.keptLookupChain();
    if (chain == null) return;
    for (int b = seq.hashedBlocks(); b < chain.length; b++) hashes.add(chain[b]);
  }

  /**
   * Whether a waiting sequence that found {@code cachedBlocks} leading blocks cached must wait: its
   * next block (one it would prefill) is in flight for a running sequence.
   */
  boolean awaits(Sequence seq, int cachedBlocks) {
    if (hashes.isEmpty()) return false;
    long[] chain = seq.keptLookupChain();
    return chain != null && cachedBlocks < chain.length && hashes.contains(chain[cachedBlocks]);
  }
}
