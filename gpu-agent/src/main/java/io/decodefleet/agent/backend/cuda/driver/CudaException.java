package io.decodefleet.agent.backend.cuda.driver;

/**
 * A CUDA driver call that failed. The message is one line naming the operation, the GPU (index
 * and name) and the driver's error name and string, e.g. {@code cuLaunchKernel(df_rmsnorm) failed
 * on GPU 0 (NVIDIA H200): CUDA_ERROR_INVALID_VALUE: invalid argument}.
 */
public final class CudaException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int code;
  private final String operation;

  public CudaException(String message, int code, String operation) {
    super(message);
    this.code = code;
    this.operation = operation;
  }

  /** The CUresult. */
  public int code() {
    return code;
  }

  /** The driver call and what it was for, e.g. {@code cuMemAlloc(64 MiB)}. */
  public String operation() {
    return operation;
  }
}
