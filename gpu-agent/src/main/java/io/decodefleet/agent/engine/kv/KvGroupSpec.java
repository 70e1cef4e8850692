package io.decodefleet.agent.engine.kv;

import java.time.Duration;
import java.util.List;

/**
 * This agent's membership of a KV group, as the coordinator hands it out.
 *
 * @param id the group's unique id (NCCL's 128 opaque bytes), the same for every member
 * @param rank this agent's rank, in [0, nranks)
 * @param peers the ranks this agent exchanges KV with: connected and checked when joining
 * @param mode how transfers issue their device work
 * @param timeout limit for joining and for each transfer; past it the group is aborted
 */
public record KvGroupSpec(byte[] id, int rank, int nranks, List<Integer> peers, KvTransferMode mode,
    Duration timeout) {

  public KvGroupSpec {
    if (id == null || id.length == 0) throw new IllegalArgumentException("KV group id is empty");
    if (nranks < 2) throw new IllegalArgumentException("a KV group needs >= 2 ranks, got " + nranks);
    if (rank < 0 || rank >= nranks) {
      throw new IllegalArgumentException("KV group rank " + rank + " is outside [0, " + nranks + ")");
    }
    peers = List.copyOf(peers);
    for (int p : peers) {
      if (p < 0 || p >= nranks || p == rank) {
        throw new IllegalArgumentException("KV group peer " + p + " of rank " + rank + " is not another rank of "
            + nranks);
      }
    }
    if (mode == null) throw new IllegalArgumentException("KV transfer mode must be given");
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("KV group timeout must be positive, got " + timeout);
    }
  }
}
