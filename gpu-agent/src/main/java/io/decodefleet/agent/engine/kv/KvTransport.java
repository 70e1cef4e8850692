package io.decodefleet.agent.engine.kv;

/**
 * A backend's member of a KV group: moves one sequence's KV pages to or from another member.
 * Made by {@link io.decodefleet.agent.engine.Backend#joinKvGroup}; used on the engine thread
 * only, except {@link #abort}, which any thread may call.
 *
 * <p>Transfers are asynchronous: {@link #send} and {@link #receive} enqueue the device work and
 * return; the engine polls each {@link Transfer} between steps. The sends of one member to a peer
 * and that peer's receives from it match in the order they are issued (as NCCL's do), whatever
 * order they are polled in; nothing tells one sequence's KV from another's, so a side that does
 * not issue a half its peer issued must {@link #abort} the group before it issues anything more.
 */
public interface KvTransport {

  /** This member's rank in the group. */
  int rank();

  /** What this member is, in one line, e.g. {@code NCCL 2.28.9, rank 0 of 2 on GPU 0, eager transfers}. */
  String description();

  /**
   * Enqueues packing {@code pages} (block ids of this agent's KV pool, a sequence's block table
   * in order) of every layer, K and V, and sending them to {@code peer}.
   */
  Transfer send(int peer, int[] pages);

  /**
   * Enqueues receiving {@code numPages} pages of every layer from {@code peer} and unpacking them
   * into {@code pages} (block ids here, in the sender's order); with {@code pages} null the data
   * is received and discarded, which keeps the pair's order when there is no room for it.
   */
  Transfer receive(int peer, int numPages, int[] pages);

  /** Aborts the group now: transfers not yet finished fail, later ones fail at once. Any thread. */
  void abort(String reason);

  /** Why the group was aborted, or null while it is usable. */
  String abortReason();

  /** Leaves the group: tears the member down cleanly, or aborts it when transfers are pending. */
  void close();

  /** One side of one transfer. */
  interface Transfer {
    /** Whether it is over (done or failed); never blocks. */
    boolean poll();

    /** Bytes that cross. */
    long bytes();

    /** This side's device time in ms (pack+send or recv+unpack); NaN unless it succeeded. */
    double millis();

    /** Why it failed, or null if it succeeded (only meaningful once {@link #poll} is true). */
    String failure();

    /**
     * Whether this side's device no longer reads or writes the pages (always, except after a
     * failure where the device work could not be seen to end: those pages must not be reused).
     */
    boolean pagesQuiet();
  }
}
