package io.decodefleet.kernels.cuda;

/**
 * A kernel's one by-value parameter: a record whose components mirror the CUDA struct of the same
 * name field by field (see {@link StructLayout} for the rules). Pointers are device addresses.
 */
public interface KernelParams {

  /** The struct's bytes, as {@code cuLaunchKernel} copies them to the kernel. */
  byte[] pack();
}
