package io.decodefleet.agent.cublas;

/** A cuBLASLt call that returned a status other than success: names the call, the device and the status. */
public final class CublasException extends RuntimeException {

  private final int status;

  public CublasException(String operation, String device, int status, String statusText) {
    super(operation + " failed on " + device + ": " + statusText + " (status " + status + ")");
    this.status = status;
  }

  /** cuBLAS's status code. */
  public int status() {
    return status;
  }
}
