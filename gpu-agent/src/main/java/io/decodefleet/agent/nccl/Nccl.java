package io.decodefleet.agent.nccl;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * NCCL, through our JNI shim ({@code src/main/native/decodefleet_nccl.c}) that dlopens
 * {@code libnccl.so.2} at run time: the only Java code that calls NCCL.
 *
 * <p>What crosses: communicators, device pointers and CUDA streams are raw addresses as
 * {@code long} (a {@code DeviceBuffer#address()}, {@code NativeStream.address(CudaStream)}; stream
 * 0 is the legacy default stream); counts are elements of a {@link DataType}; the unique id is a
 * {@code byte[128]}.
 *
 * <p>Threads: NCCL takes a rank's GPU from the calling thread, so each rank runs on a thread where
 * its GPU's (primary) context is current, and in one process each rank has its own thread.
 *
 * <p>Nothing hangs: communicators are non-blocking (NCCL 2.14 or newer). Creating one, and any call
 * that answers ncclInProgress, is polled with ncclCommGetAsyncError until it is done; a call that
 * fails there or outlasts its deadline aborts the communicator, so a peer that never arrives or
 * dies cannot freeze the survivors. {@link #commAbort} may also be called from another thread to
 * free a rank blocked outside NCCL (in a stream synchronize, waiting for a dead peer).
 *
 * <p>Failures: an argument that can never be valid throws {@link IllegalArgumentException} before
 * any native call; a call without NCCL throws {@link IllegalStateException} with {@link
 * #unavailabilityCause()}; an NCCL status becomes an {@link NcclException} in exactly one place,
 * {@link #failure}, naming the call, the rank, the GPU and NCCL's error string.
 */
public final class Nccl {

  public static final int UNIQUE_ID_BYTES = 128;
  /** How long a call that NCCL finishes in the background (connection set-up) may take. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

  /** ncclResult_t values this side acts on. */
  static final int SUCCESS = 0;
  static final int IN_PROGRESS = 7;
  static final int TIMEOUT = 8;
  private static final int SUM = 0;

  /** The element types we reduce and move, with their ncclDataType_t codes. */
  public enum DataType {
    FLOAT32(7, 4, "fp32"),
    BFLOAT16(9, 2, "bf16");

    private final int code;
    private final int bytes;
    private final String shortName;

    DataType(int code, int bytes, String shortName) {
      this.code = code;
      this.bytes = bytes;
      this.shortName = shortName;
    }

    /** Bytes per element. */
    public int bytes() {
      return bytes;
    }

    @Override
    public String toString() {
      return shortName;
    }
  }

  /** What a live communicator is, for messages and peer checks. */
  private record Member(int rank, int nranks, int device) {
    String label() {
      return "rank " + rank + " of " + nranks + " (GPU " + device + ")";
    }
  }

  /** Live communicators; removing one is what entitles a thread to free it. */
  private static final Map<Long, Member> LIVE = new ConcurrentHashMap<>();
  private static final String CAUSE = NativeShim.probe(Nccl::loadLibrary);
  private static final boolean NON_BLOCKING =
      CAUSE.isEmpty() && hasSymbol("ncclCommInitRankConfig") && hasSymbol("ncclCommFinalize");
  private static final boolean HAS_CU_DEVICE = CAUSE.isEmpty() && hasSymbol("ncclCommCuDevice");
  /**
   * Operations run on a blocking communicator split off the non-blocking one that was formed:
   * NCCL launches every group of a non-blocking communicator from a thread it starts for the
   * purpose, which costs tens of µs per operation; a blocking one enqueues on the calling thread.
   * Forming (the step that waits for peers) stays non-blocking and bounded by its timeout. Off
   * with DECODEFLEET_NCCL_BLOCKING_OPS=0, or without ncclCommSplit (NCCL before 2.18).
   */
  private static final boolean BLOCKING_OPS = NON_BLOCKING && hasSymbol("ncclCommSplit")
      && !"0".equals(System.getenv("DECODEFLEET_NCCL_BLOCKING_OPS"));

  private Nccl() {}

  /** Whether the shim loaded and found NCCL. */
  public static boolean isAvailable() {
    return CAUSE.isEmpty();
  }

  /** Why NCCL is unusable, in one line naming the OS, architecture and each cause; "" if usable. */
  public static String unavailabilityCause() {
    return CAUSE;
  }

  /**
   * Whether operations enqueue on the calling thread (a blocking communicator split off the
   * non-blocking one that was formed), rather than through NCCL's background launch.
   */
  public static boolean blockingOps() {
    return BLOCKING_OPS;
  }

  /** Whether communicators are formed non-blocking (false only with an NCCL older than 2.14). */
  public static boolean nonBlockingComms() {
    return NON_BLOCKING;
  }

  /** NCCL's version code, e.g. 22703 for 2.27.3. */
  public static int version() {
    requireAvailable();
    int[] v = new int[1];
    check(ncclGetVersion(v), () -> "ncclGetVersion");
    return v[0];
  }

  /** {@code 2.27.3}: a version code as text (codes before 2.9 used major*1000 + minor*100). */
  public static String versionText(int code) {
    return code >= 10000
        ? code / 10000 + "." + code % 10000 / 100 + "." + code % 100
        : code / 1000 + "." + code % 1000 / 100 + "." + code % 100;
  }

  /** A fresh unique id: made by one rank, handed to every rank of the communicator. */
  public static byte[] uniqueId() {
    requireAvailable();
    byte[] id = new byte[UNIQUE_ID_BYTES];
    check(ncclGetUniqueId(id), () -> "ncclGetUniqueId");
    return id;
  }

  /** {@link #commInitRank(int, byte[], int, int, Duration)} with {@link #DEFAULT_TIMEOUT}. */
  public static long commInitRank(int nranks, byte[] id, int rank, int device) {
    return commInitRank(nranks, id, rank, device, DEFAULT_TIMEOUT);
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
    requireAvailable();
    Member member = new Member(rank, nranks, device);
    long[] out = new long[1];
    int rc = ncclCommInitRank(out, nranks, id, rank, NON_BLOCKING ? 0 : 1);
    long comm = out[0];
    if (rc != SUCCESS && rc != IN_PROGRESS) {
      NcclException e = failure("ncclCommInitRank", rc, member, comm);
      if (comm != 0) {
        ncclCommAbort(comm); // half-made: free it; its own status adds nothing to e
      }
      throw e;
    }
    if (comm == 0) {
      throw new IllegalStateException("ncclCommInitRank returned no communicator on "
          + member.label() + " (status " + rc + ")");
    }
    LIVE.put(comm, member);
    if (NON_BLOCKING) {
      await(comm, member, "ncclCommInitRank", timeout);
    }
    if (HAS_CU_DEVICE) {
      int[] actual = new int[1];
      check(ncclCommCuDevice(comm, actual), () -> "ncclCommCuDevice", member, comm);
      if (actual[0] != device) {
        commAbort(comm);
        throw new IllegalStateException("commInitRank: " + member.label() + " was created on GPU "
            + actual[0] + ": make GPU " + device + "'s context current on this thread first");
      }
    }
    return BLOCKING_OPS ? blockingCopy(comm, member, timeout) : comm;
  }

  /**
   * Splits a blocking communicator of the same ranks off the freshly formed non-blocking
   * {@code parent} (every rank does this at once, inside commInitRank), then destroys the parent.
   * On failure or timeout both are aborted before this throws.
   */
  private static long blockingCopy(long parent, Member member, Duration timeout) {
    long[] slot = new long[1];
    int rc = ncclCommSplit(parent, 0, member.rank(), slot, 1);
    if (rc != SUCCESS && rc != IN_PROGRESS) {
      NcclException e = failure("ncclCommSplit", rc, member, parent);
      long child = ncclTakeSplitComm(slot[0]);
      if (child != 0) ncclCommAbort(child);
      commAbort(parent);
      throw e;
    }
    // The parent reports the split finished; only then is the new handle in the slot.
    await(parent, member, "ncclCommSplit", timeout); // aborts the parent and throws on failure
    long child = ncclTakeSplitComm(slot[0]);
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

  /** {@link #commDestroy(long, Duration)} with {@link #DEFAULT_TIMEOUT}. */
  public static void commDestroy(long comm) {
    commDestroy(comm, DEFAULT_TIMEOUT);
  }

  /**
   * Tears a communicator down cleanly: finalize (flushes its work, waits up to {@code timeout}),
   * then destroy. A failure or timeout while finalizing aborts it instead, then throws.
   */
  public static void commDestroy(long comm, Duration timeout) {
    NcclArguments.comm("commDestroy", comm);
    NcclArguments.timeout("commDestroy", timeout);
    requireAvailable();
    Member member = member("commDestroy", comm);
    if (NON_BLOCKING) {
      int rc = ncclCommFinalize(comm);
      if (rc != SUCCESS && rc != IN_PROGRESS) {
        NcclException e = failure("ncclCommFinalize", rc, member, comm);
        commAbort(comm);
        throw e;
      }
      await(comm, member, "ncclCommFinalize", timeout);
    }
    if (LIVE.remove(comm) != null) {
      check(ncclCommDestroy(comm), () -> "ncclCommDestroy", member, comm);
    }
  }

  /**
   * Aborts a communicator: stops its operations on the GPU and frees it. Safe to call from another
   * thread than the rank's. Returns false when it was already destroyed or aborted.
   */
  public static boolean commAbort(long comm) {
    NcclArguments.comm("commAbort", comm);
    requireAvailable();
    Member member = LIVE.remove(comm);
    if (member == null) {
      return false;
    }
    check(ncclCommAbort(comm), () -> "ncclCommAbort", member, comm);
    return true;
  }

  /** Throws (and aborts the communicator) if NCCL reports an asynchronous error on it. */
  public static void checkAsyncError(long comm) {
    NcclArguments.comm("checkAsyncError", comm);
    requireAvailable();
    Member member = member("checkAsyncError", comm);
    int[] state = new int[1];
    check(ncclCommGetAsyncError(comm, state), () -> "ncclCommGetAsyncError", member, comm);
    if (state[0] != SUCCESS && state[0] != IN_PROGRESS) {
      throw abandon(comm, failure("asynchronous operation", state[0], member, comm));
    }
  }

  /**
   * Enqueues a sum all-reduce of {@code count} elements on {@code stream}; in place when
   * {@code sendPtr == recvPtr}.
   */
  public static void allReduce(
      long sendPtr, long recvPtr, long count, DataType dtype, long stream, long comm) {
    NcclArguments.pointer("allReduce", "sendPtr", sendPtr);
    NcclArguments.pointer("allReduce", "recvPtr", recvPtr);
    NcclArguments.count("allReduce", count, dtype);
    NcclArguments.comm("allReduce", comm);
    requireAvailable();
    Member member = member("allReduce", comm);
    int rc = ncclAllReduce(sendPtr, recvPtr, count, dtype.code, SUM, comm, stream);
    finish(rc, member, comm, () -> "ncclAllReduce(" + dtype + " x " + count + ")");
  }

  /** Enqueues sending {@code count} elements to rank {@code peer}, which must {@link #recv}. */
  public static void send(
      long sendPtr, long count, DataType dtype, int peer, long stream, long comm) {
    NcclArguments.pointer("send", "sendPtr", sendPtr);
    NcclArguments.count("send", count, dtype);
    NcclArguments.comm("send", comm);
    requireAvailable();
    Member member = member("send", comm);
    NcclArguments.peer("send", peer, member.rank(), member.nranks());
    int rc = ncclSend(sendPtr, count, dtype.code, peer, comm, stream);
    finish(rc, member, comm, () -> "ncclSend(" + dtype + " x " + count + " to rank " + peer + ")");
  }

  /** Enqueues receiving {@code count} elements from rank {@code peer}, which must {@link #send}. */
  public static void recv(
      long recvPtr, long count, DataType dtype, int peer, long stream, long comm) {
    NcclArguments.pointer("recv", "recvPtr", recvPtr);
    NcclArguments.count("recv", count, dtype);
    NcclArguments.comm("recv", comm);
    requireAvailable();
    Member member = member("recv", comm);
    NcclArguments.peer("recv", peer, member.rank(), member.nranks());
    int rc = ncclRecv(recvPtr, count, dtype.code, peer, comm, stream);
    finish(rc, member, comm,
        () -> "ncclRecv(" + dtype + " x " + count + " from rank " + peer + ")");
  }

  /** Opens a group: the calls up to {@link #groupEnd} are launched together. */
  public static void groupStart() {
    requireAvailable();
    check(ncclGroupStart(), () -> "ncclGroupStart");
  }

  /**
   * Closes a group and launches its calls.
   *
   * @param comms the communicators the group's calls used: waited on when NCCL finishes the
   *     group in the background, and named in errors
   */
  public static void groupEnd(long... comms) {
    for (long comm : comms) {
      NcclArguments.comm("groupEnd", comm);
    }
    requireAvailable();
    Member[] members = new Member[comms.length];
    for (int i = 0; i < comms.length; i++) {
      members[i] = member("groupEnd", comms[i]);
    }
    int rc = ncclGroupEnd();
    if (rc == IN_PROGRESS && comms.length == 0) {
      throw new IllegalStateException(
          "ncclGroupEnd is finishing in the background: pass the group's communicators to wait on");
    }
    if (rc == IN_PROGRESS) {
      for (int i = 0; i < comms.length; i++) {
        await(comms[i], members[i], "ncclGroupEnd", DEFAULT_TIMEOUT);
      }
    } else if (rc != SUCCESS) {
      throw failure("ncclGroupEnd", rc, comms.length == 0 ? null : members[0],
          comms.length == 0 ? 0 : comms[0]);
    }
  }

  /** NCCL's text for a status, e.g. {@code "unhandled cuda error (run with NCCL_DEBUG=...)"}. */
  public static String errorString(int status) {
    requireAvailable();
    return ncclGetErrorString(status);
  }

  // ---- the one boundary where a status becomes an exception ----------------------------------

  private static void check(int rc, Supplier<String> call) {
    check(rc, call, null, 0);
  }

  private static void check(int rc, Supplier<String> call, Member member, long comm) {
    if (rc != SUCCESS) {
      throw failure(call.get(), rc, member, comm);
    }
  }

  /** A call's status; ncclInProgress is waited out (non-blocking communicators only). */
  private static void finish(int rc, Member member, long comm, Supplier<String> call) {
    if (rc == IN_PROGRESS && NON_BLOCKING) {
      await(comm, member, call.get(), DEFAULT_TIMEOUT);
    } else {
      check(rc, call, member, comm);
    }
  }

  /** {@code <call> failed on rank r of n (GPU d): <NCCL's string>[; NCCL: <last error>]}. */
  private static NcclException failure(String call, int status, Member member, long comm) {
    String where = member == null ? "" : " on " + member.label();
    String last = ncclGetLastError(comm).strip();
    String message = call + " failed" + where + ": " + ncclGetErrorString(status)
        + (last.isEmpty() ? "" : "; NCCL last error: " + last);
    return new NcclException(message.replaceAll("\\s*\\R\\s*", " "), status, call);
  }

  /** Polls until NCCL has finished {@code call} in the background; aborts on error or timeout. */
  private static void await(long comm, Member member, String call, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int[] state = new int[1];
    for (int polls = 0; ; polls++) {
      if (!LIVE.containsKey(comm)) {
        throw new IllegalStateException(call + " on " + member.label()
            + ": the communicator was aborted by another thread while waiting");
      }
      int rc = ncclCommGetAsyncError(comm, state);
      if (rc != SUCCESS) {
        throw abandon(comm, failure("ncclCommGetAsyncError after " + call, rc, member, comm));
      }
      if (state[0] == SUCCESS) {
        return;
      }
      if (state[0] != IN_PROGRESS) {
        throw abandon(comm, failure(call, state[0], member, comm));
      }
      if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
        String why = Thread.currentThread().isInterrupted()
            ? " was interrupted"
            : " did not finish within " + timeout.toMillis() / 1000.0
                + " s: is every rank there?";
        throw abandon(comm, new NcclException(
            call + " on " + member.label() + why, TIMEOUT, call));
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
      ncclCommAbort(comm); // the error being reported is e's; abort's own status adds nothing
    }
    return new NcclException(e.getMessage() + " (communicator aborted)", e.status(), e.call());
  }

  // ---- preconditions that need the library or the live communicators -------------------------

  private static void requireAvailable() {
    if (!isAvailable()) {
      throw new IllegalStateException(CAUSE);
    }
  }

  private static Member member(String function, long comm) {
    Member m = LIVE.get(comm);
    if (m == null) {
      throw new IllegalArgumentException(function + ": comm 0x" + Long.toHexString(comm)
          + " is not a live communicator (never created, destroyed or aborted)");
    }
    return m;
  }

  // ---- the shim: each returns NCCL's status; see decodefleet_nccl.c ----------------------------

  private static native String loadLibrary(String library);

  private static native boolean hasSymbol(String name);

  private static native int ncclGetVersion(int[] version);

  private static native int ncclGetUniqueId(byte[] id);

  private static native int ncclCommInitRank(
      long[] comm, int nranks, byte[] id, int rank, int blocking);

  private static native int ncclCommFinalize(long comm);

  private static native int ncclCommDestroy(long comm);

  private static native int ncclCommAbort(long comm);

  private static native int ncclCommGetAsyncError(long comm, int[] state);

  private static native int ncclCommSplit(long comm, int color, int key, long[] slot, int blocking);

  private static native long ncclTakeSplitComm(long slot);

  private static native int ncclCommCuDevice(long comm, int[] device);

  private static native int ncclAllReduce(
      long send, long recv, long count, int dtype, int op, long comm, long stream);

  private static native int ncclSend(
      long send, long count, int dtype, int peer, long comm, long stream);

  private static native int ncclRecv(
      long recv, long count, int dtype, int peer, long comm, long stream);

  private static native int ncclGroupStart();

  private static native int ncclGroupEnd();

  private static native String ncclGetErrorString(int status);

  private static native String ncclGetLastError(long comm);
}
