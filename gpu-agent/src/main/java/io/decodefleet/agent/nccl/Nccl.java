package io.decodefleet.agent.nccl;

import java.time.Duration;
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
 * <p>Communicators: {@link NcclCommunicator} forms, splits, destroys and aborts them (bounded by
 * timeouts, so nothing hangs) and keeps the registry of live ones; the operations here take its
 * handles and wait out a call NCCL finishes in the background.
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

  private static final String CAUSE = NativeShim.probe(Nccl::loadLibrary);
  static final boolean NON_BLOCKING =
      CAUSE.isEmpty() && hasSymbol("ncclCommInitRankConfig") && hasSymbol("ncclCommFinalize");
  static final boolean HAS_CU_DEVICE = CAUSE.isEmpty() && hasSymbol("ncclCommCuDevice");
  /**
   * Operations run on a blocking communicator split off the non-blocking one that was formed:
   * NCCL launches every group of a non-blocking communicator from a thread it starts for the
   * purpose, which costs tens of µs per operation; a blocking one enqueues on the calling thread.
   * Forming (the step that waits for peers) stays non-blocking and bounded by its timeout. Off
   * with DECODEFLEET_NCCL_BLOCKING_OPS=0, or without ncclCommSplit (NCCL before 2.18).
   */
  static final boolean BLOCKING_OPS = NON_BLOCKING && hasSymbol("ncclCommSplit")
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
    NcclCommunicator.Member member = NcclCommunicator.member("allReduce", comm);
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
    NcclCommunicator.Member member = NcclCommunicator.member("send", comm);
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
    NcclCommunicator.Member member = NcclCommunicator.member("recv", comm);
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
    NcclCommunicator.Member[] members = new NcclCommunicator.Member[comms.length];
    for (int i = 0; i < comms.length; i++) {
      members[i] = NcclCommunicator.member("groupEnd", comms[i]);
    }
    int rc = ncclGroupEnd();
    if (rc == IN_PROGRESS && comms.length == 0) {
      throw new IllegalStateException(
          "ncclGroupEnd is finishing in the background: pass the group's communicators to wait on");
    }
    if (rc == IN_PROGRESS) {
      for (int i = 0; i < comms.length; i++) {
        NcclCommunicator.await(comms[i], members[i], "ncclGroupEnd", DEFAULT_TIMEOUT);
      }
    } else if (rc != SUCCESS) {
      throw failure("ncclGroupEnd", rc, comms.length == 0 ? null : members[0],
          comms.length == 0 ? 0 : comms[0]);
    }
  }

  /**
   * A group of point-to-point calls: {@link #groupStart}, {@code calls}, then {@link #groupEnd} on
   * {@code comms} however the calls ended. When a call fails, its error is the one thrown and a failing
   * {@code groupEnd} is attached to it as suppressed, rather than replacing it.
   */
  public static void group(Runnable calls, long... comms) {
    groupStart();
    RuntimeException failed = null;
    try {
      calls.run();
    } catch (RuntimeException e) {
      failed = e;
      throw e;
    } finally {
      try {
        groupEnd(comms);
      } catch (RuntimeException end) {
        if (failed == null) throw end;
        failed.addSuppressed(end);
      }
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

  static void check(int rc, Supplier<String> call, NcclCommunicator.Member member, long comm) {
    if (rc != SUCCESS) {
      throw failure(call.get(), rc, member, comm);
    }
  }

  /** A call's status; ncclInProgress is waited out (non-blocking communicators only). */
  private static void finish(int rc, NcclCommunicator.Member member, long comm, Supplier<String> call) {
    if (rc == IN_PROGRESS && NON_BLOCKING) {
      NcclCommunicator.await(comm, member, call.get(), DEFAULT_TIMEOUT);
    } else {
      check(rc, call, member, comm);
    }
  }

  /** {@code <call> failed on rank r of n (GPU d): <NCCL's string>[; NCCL: <last error>]}. */
  static NcclException failure(String call, int status, NcclCommunicator.Member member, long comm) {
    String where = member == null ? "" : " on " + member.label();
    String last = ncclGetLastError(comm).strip();
    String message = call + " failed" + where + ": " + ncclGetErrorString(status)
        + (last.isEmpty() ? "" : "; NCCL last error: " + last);
    return new NcclException(message.replaceAll("\\s*\\R\\s*", " "), status, call);
  }

  // ---- preconditions that need the library or the live communicators -------------------------

  static void requireAvailable() {
    if (!isAvailable()) {
      throw new IllegalStateException(CAUSE);
    }
  }

  // ---- a communicator's life, for NcclCommunicator: each returns NCCL's status ---------------

  static int rawCommInitRank(long[] comm, int nranks, byte[] id, int rank, int blocking) {
    return ncclCommInitRank(comm, nranks, id, rank, blocking);
  }

  static int rawCommFinalize(long comm) {
    return ncclCommFinalize(comm);
  }

  static int rawCommDestroy(long comm) {
    return ncclCommDestroy(comm);
  }

  static int rawCommAbort(long comm) {
    return ncclCommAbort(comm);
  }

  static int rawCommGetAsyncError(long comm, int[] state) {
    return ncclCommGetAsyncError(comm, state);
  }

  static int rawCommSplit(long comm, int color, int key, long[] slot, int blocking) {
    return ncclCommSplit(comm, color, key, slot, blocking);
  }

  static long rawTakeSplitComm(long slot) {
    return ncclTakeSplitComm(slot);
  }

  static int rawCommCuDevice(long comm, int[] device) {
    return ncclCommCuDevice(comm, device);
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
