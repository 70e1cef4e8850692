package io.decodefleet.agent.nccl;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The life of an NCCL communicator, over the {@link Nccl} binding: forming one, the blocking copy
 * its operations run on, tearing it down, aborting it, and the registry of live communicators that
 * names the rank and GPU in every error. A communicator is its raw {@code ncclComm_t} address as a
 * {@code long}, the handle {@link Nccl}'s operations take.
 *
 * <p>Nothing hangs: communicators are non-blocking (NCCL 2.14 or newer). Creating one, and any call
 * that answers ncclInProgress, is polled with ncclCommGetAsyncError until it is done; a call that
 * fails there or outlasts its deadline aborts the communicator, so a peer that never arrives or
 * dies cannot freeze the survivors. {@link #commAbort} may also be called from another thread to
 * free a rank blocked outside NCCL (in a stream synchronize, waiting for a dead peer).
 *
 * <p>Threads: NCCL takes a rank's GPU from the calling thread, so each rank forms its communicator
 * on a thread where its GPU's (primary) context is current, and in one process each rank has its
 * own thread.
 */
public final class NcclCommunicator {

  /** What a live communicator is, for messages and peer checks. */
  record Member(int rank, int nranks, int device) {
    String label() {
      return "rank " + rank + " of " + nranks + " (GPU " + device + ")";
    }
  }

  /** Live communicators; removing one is what entitles a thread to free it. */
  private static final Map<Long, Member> LIVE = new ConcurrentHashMap<>();

  private NcclCommunicator() {}

  /** {@link #commInitRank(int, byte[], int, int, Duration)} with {@link Nccl#DEFAULT_TIMEOUT}. */
  public static long commInitRank(int nranks, byte[] id, int rank, int device) {
    return commInitRank(nranks, id, rank, device, Nccl.DEFAULT_TIMEOUT);
  }

  /**
   * Creates rank {@code rank} of an {@code nranks} communicator on the calling thread's current
   * GPU, waiting up to {@code timeout} for every rank to join; on failure or timeout the
   * half-made communicator is aborted before this throws.
   *
   * @param device the CUDA ordinal whose context is current here: named in errors, and checked
   *     against the device NCCL picked up
   * @return the communicator handle
   */
  public static long commInitRank(int nranks, byte[] id, int rank, int device, Duration timeout) {
    NcclArguments.id(id);
    NcclArguments.ranks(nranks, rank, device);
    NcclArguments.timeout("commInitRank", timeout);
    Nccl.requireAvailable();
    Member member = new Member(rank, nranks, device);
    long[] out = new long[1];
    int rc = Nccl.rawCommInitRank(out, nranks, id, rank, Nccl.NON_BLOCKING ? 0 : 1);
    long comm = out[0];
    if (rc != Nccl.SUCCESS && rc != Nccl.IN_PROGRESS) {
      NcclException e = Nccl.failure("ncclCommInitRank", rc, member, comm);
      if (comm != 0) {
        Nccl.rawCommAbort(comm); // half-made: free it; its own status adds nothing to e
      }
      throw e;
    }
    if (comm == 0) {
      throw new IllegalStateException("ncclCommInitRank returned no communicator on "
          + member.label() + " (status " + rc + ")");
    }
    LIVE.put(comm, member);
    if (Nccl.NON_BLOCKING) {
      await(comm, member, "ncclCommInitRank", timeout);
    }
    if (Nccl.HAS_CU_DEVICE) {
      int[] actual = new int[1];
      Nccl.check(Nccl.rawCommCuDevice(comm, actual), () -> "ncclCommCuDevice", member, comm);
      if (actual[0] != device) {
        commAbort(comm);
        throw new IllegalStateException("commInitRank: " + member.label() + " was created on GPU "
            + actual[0] + ": make GPU " + device + "'s context current on this thread first");
      }
    }
    return Nccl.BLOCKING_OPS ? blockingCopy(comm, member, timeout) : comm;
  }

  /**
   * Splits a blocking communicator of the same ranks off the freshly formed non-blocking
   * {@code parent} (every rank does this at once, inside commInitRank), then destroys the parent.
   * On failure or timeout both are aborted before this throws.
   */
  private static long blockingCopy(long parent, Member member, Duration timeout) {
    long[] slot = new long[1];
    int rc = Nccl.rawCommSplit(parent, 0, member.rank(), slot, 1);
    if (rc != Nccl.SUCCESS && rc != Nccl.IN_PROGRESS) {
      NcclException e = Nccl.failure("ncclCommSplit", rc, member, parent);
      long child = Nccl.rawTakeSplitComm(slot[0]);
      if (child != 0) Nccl.rawCommAbort(child);
      commAbort(parent);
      throw e;
    }
    // The parent reports the split finished; only then is the new handle in the slot.
    await(parent, member, "ncclCommSplit", timeout); // aborts the parent and throws on failure
    long child = Nccl.rawTakeSplitComm(slot[0]);
    if (child == 0) {
      commAbort(parent);
      throw new IllegalStateException("ncclCommSplit made no communicator on " + member.label()
          + " (status " + rc + ")");
    }
    LIVE.put(child, member);
    try {
      await(child, member, "ncclCommSplit", timeout);
    } catch (RuntimeException e) {
      commAbort(child);
      commAbort(parent);
      throw e;
    }
    try {
      commDestroy(parent, timeout);
    } catch (RuntimeException e) {
      commAbort(child);
      throw e;
    }
    return child;
  }

  /** {@link #commDestroy(long, Duration)} with {@link Nccl#DEFAULT_TIMEOUT}. */
  public static void commDestroy(long comm) {
    commDestroy(comm, Nccl.DEFAULT_TIMEOUT);
  }

  /**
   * Tears a communicator down cleanly: finalize (flushes its work, waits up to {@code timeout}),
   * then destroy. A failure or timeout while finalizing aborts it instead, then throws.
   */
  public static void commDestroy(long comm, Duration timeout) {
    NcclArguments.comm("commDestroy", comm);
    NcclArguments.timeout("commDestroy", timeout);
    Nccl.requireAvailable();
    Member member = member("commDestroy", comm);
    if (Nccl.NON_BLOCKING) {
      int rc = Nccl.rawCommFinalize(comm);
      if (rc != Nccl.SUCCESS && rc != Nccl.IN_PROGRESS) {
        NcclException e = Nccl.failure("ncclCommFinalize", rc, member, comm);
        commAbort(comm);
        throw e;
      }
      await(comm, member, "ncclCommFinalize", timeout);
    }
    if (LIVE.remove(comm) != null) {
      Nccl.check(Nccl.rawCommDestroy(comm), () -> "ncclCommDestroy", member, comm);
    }
  }

  /**
   * Aborts a communicator: stops its operations on the GPU and frees it. Safe to call from another
   * thread than the rank's. Returns false when it was already destroyed or aborted.
   */
  public static boolean commAbort(long comm) {
    NcclArguments.comm("commAbort", comm);
    Nccl.requireAvailable();
    Member member = LIVE.remove(comm);
    if (member == null) {
      return false;
    }
    Nccl.check(Nccl.rawCommAbort(comm), () -> "ncclCommAbort", member, comm);
    return true;
  }

  /** Throws (and aborts the communicator) if NCCL reports an asynchronous error on it. */
  public static void checkAsyncError(long comm) {
    NcclArguments.comm("checkAsyncError", comm);
    Nccl.requireAvailable();
    Member member = member("checkAsyncError", comm);
    int[] state = new int[1];
    Nccl.check(Nccl.rawCommGetAsyncError(comm, state), () -> "ncclCommGetAsyncError", member, comm);
    if (state[0] != Nccl.SUCCESS && state[0] != Nccl.IN_PROGRESS) {
      throw abandon(comm, Nccl.failure("asynchronous operation", state[0], member, comm));
    }
  }

  /** Polls until NCCL has finished {@code call} in the background; aborts on error or timeout. */
  static void await(long comm, Member member, String call, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int[] state = new int[1];
    for (int polls = 0; ; polls++) {
      if (!LIVE.containsKey(comm)) {
        throw new IllegalStateException(call + " on " + member.label()
            + ": the communicator was aborted by another thread while waiting");
      }
      int rc = Nccl.rawCommGetAsyncError(comm, state);
      if (rc != Nccl.SUCCESS) {
        throw abandon(comm, Nccl.failure("ncclCommGetAsyncError after " + call, rc, member, comm));
      }
      if (state[0] == Nccl.SUCCESS) {
        return;
      }
      if (state[0] != Nccl.IN_PROGRESS) {
        throw abandon(comm, Nccl.failure(call, state[0], member, comm));
      }
      if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
        String why = Thread.currentThread().isInterrupted()
            ? " was interrupted"
            : " did not finish within " + timeout.toMillis() / 1000.0
                + " s: is every rank there?";
        throw abandon(comm, new NcclException(
            call + " on " + member.label() + why, Nccl.TIMEOUT, call));
      }
      if (polls < 2000) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(200_000L);
      }
    }
  }

  /** Aborts {@code comm} if this thread still owns it; returns {@code e}, marked as aborted. */
  private static NcclException abandon(long comm, NcclException e) {
    if (LIVE.remove(comm) != null) {
      Nccl.rawCommAbort(comm); // the error being reported is e's; abort's own status adds nothing
    }
    return new NcclException(e.getMessage() + " (communicator aborted)", e.status(), e.call());
  }

  /** The live communicator {@code comm}; refuses one never created, destroyed or aborted. */
  static Member member(String function, long comm) {
    Member m = LIVE.get(comm);
    if (m == null) {
      throw new IllegalArgumentException(function + ": comm 0x" + Long.toHexString(comm)
          + " is not a live communicator (never created, destroyed or aborted)");
    }
    return m;
  }
}
