package io.decodefleet.agent.backend.cuda.driver;

import jcuda.driver.CUdeviceptr;

/**
 * A {@link CUdeviceptr} that tells its raw address: kernel parameter structs carry device
 * addresses as 64-bit integers, which JCuda keeps behind a protected accessor.
 */
final class DevicePointer extends CUdeviceptr {

  long address() {
    return getNativePointer() + getByteOffset();
  }
}
