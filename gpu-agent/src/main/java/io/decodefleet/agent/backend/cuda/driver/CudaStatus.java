package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The one place where a CUDA driver status becomes an exception. Every driver call of the CUDA
 * backend (this package, the KV layer, the model layer, the device tools) passes its result through
 * {@link #check}, directly or through {@link CudaContext#check}; JCuda's own exceptions stay
 * disabled so that no call escapes with a message that lacks the operation or the GPU.
 */
public final class CudaStatus {

  private CudaStatus() {}

  /**
   * Throws unless {@code result} is CUDA_SUCCESS.
   *
   * @param operation the call and its subject, e.g. {@code "cuModuleGetFunction(df_rmsnorm)"}
   * @param gpu the device the call was for, or null before any device is chosen
   */
  public static void check(int result, String operation, GpuInfo gpu) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(message(result, operation, gpu), result, operation);
    }
  }

  /** The one-line message {@link #check} would throw with. */
  public static String message(int result, String operation, GpuInfo gpu) {
    String where = gpu == null ? "" : " on " + gpu.label();
    return operation + " failed" + where + ": " + describe(result);
  }

  /** {@code NAME: description} for a CUresult, from the driver when it can say. */
  public static String describe(int result) {
    String name = null;
    String text = null;
    // Only where the driver library loaded: the first touch of JCudaDriver is CudaDriver's, which
    // keeps why loading failed (a later touch only hears that the class could not be initialised).
    if (CudaDriver.libraryLoaded()) {
      String[] out = new String[1];
      if (JCudaDriver.cuGetErrorName(result, out) == CUresult.CUDA_SUCCESS) {
        name = out[0];
      }
      out[0] = null;
      if (JCudaDriver.cuGetErrorString(result, out) == CUresult.CUDA_SUCCESS) {
        text = out[0];
      }
    }
    if (name == null) {
      name = CUresult.stringFor(result);
    }
    return text == null ? name + " (" + result + ")" : name + ": " + text;
  }
}
