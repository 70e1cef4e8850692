package io.decodefleet.agent.nccl;

/**
 * An NCCL call that failed or did not finish in time. The message is one line naming the call,
 * the rank and GPU it ran for, and NCCL's error string (plus NCCL's last error message when it
 * has one), e.g. {@code ncclAllReduce(bf16 x 1048576) failed on rank 1 of 2 (GPU 1): unhandled
 * cuda error (run with NCCL_DEBUG=INFO for details); NCCL last error: Cuda failure 'out of
 * memory'}.
 */
public final class NcclException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String call;

  NcclException(String message, int status, String call) {
    super(message);
    this.status = status;
    this.call = call;
  }

  /** The ncclResult_t (ncclTimeout, 8, when this side's deadline passed). */
  public int status() {
    return status;
  }

  /** The NCCL call and its subject, e.g. {@code ncclSend(bf16 x 2048 to rank 1)}. */
  public String call() {
    return call;
  }
}
