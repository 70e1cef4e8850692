package io.decodefleet.agent.backend.cuda.driver;

import jcuda.runtime.cudaStream_t;

/**
 * The raw {@code CUstream} of a {@link CudaStream} as a {@code long}, for native code that takes a
 * {@code cudaStream_t} (the NCCL shim). JCuda keeps the address behind the protected {@code
 * NativePointerObject#getNativePointer()}; this subclass copies it through JCuda's public
 * {@code cudaStream_t(CUstream)} constructor and reads its own copy, with no reflection. Driver and
 * runtime streams are the same object, so the address is what NCCL expects.
 */
public final class NativeStream extends cudaStream_t {

  private NativeStream(CudaStream stream) {
    super(stream.handle());
  }

  /** The stream's address (never 0 for a created stream; 0 would be the legacy default stream). */
  public static long address(CudaStream stream) {
    return new NativeStream(stream).getNativePointer();
  }
}
