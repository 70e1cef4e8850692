package io.decodefleet.agent.backend.cuda.driver;

import io.decodefleet.agent.nativeshim.ShimLibrary;
import io.decodefleet.kernels.cuda.TensorMap;
import io.decodefleet.kernels.cuda.TensorMapSpec;

/**
 * Encodes the tensor maps TMA copies read ({@code cuTensorMapEncodeTiled}), through the project's
 * JNI shim ({@code src/main/native/decodefleet_tensormap.c}): JCuda 12.0 binds no tensor-map call.
 * The shim loads once, at class initialisation, and resolves the function in {@code libcuda.so.1}
 * (the driver JCuda has loaded already). A host where either is missing is normal for a CPU-only
 * build: {@link #isAvailable()} is false, {@link #unavailabilityCause()} says why in one line, and
 * the kernels that need tensor maps are not used. Encoding is host-only work (no context, no
 * device call), a few microseconds, so callers may encode per launch or keep the maps.
 */
public final class TensorMaps {

  /** The driver library the shim opens. */
  public static final String DRIVER_LIBRARY = "libcuda.so.1";

  private static final ShimLibrary SHIM = new ShimLibrary("the tensor-map shim",
      "/io/decodefleet/agent/backend/cuda/driver/native/linux-x86_64/libdecodefleet_tensormap.so");
  private static final String UNAVAILABLE = probe();

  private TensorMaps() {}

  public static boolean isAvailable() {
    return UNAVAILABLE.isEmpty();
  }

  /** "" when available, else one line: the platform and the cause. */
  public static String unavailabilityCause() {
    return UNAVAILABLE;
  }

  /**
   * The tensor map of {@code spec} (bf16 or uint8, its swizzle, L2 promotion of 256 bytes, zeros
   * outside). A status other than success becomes a {@link CudaException} naming every parameter.
   *
   * @param gpu the device the map is for (named in errors); null where none is chosen
   */
  public static TensorMap encode(TensorMapSpec spec, GpuInfo gpu) {
    if (!isAvailable()) {
      throw new IllegalStateException("cuTensorMapEncodeTiled: " + UNAVAILABLE);
    }
    byte[] out = new byte[TensorMap.BYTES];
    int status = encodeTiled2d(spec.dataType(), spec.address(), spec.inner(), spec.outer(),
        spec.rowStrideBytes(), spec.boxInner(), spec.boxOuter(), TensorMapSpec.INTERLEAVE_NONE,
        spec.swizzle(), TensorMapSpec.L2_PROMOTION_256B, TensorMapSpec.OOB_FILL_ZERO, out);
    String type = spec.dataType() == TensorMapSpec.DATA_TYPE_BF16 ? "bf16 " : "uint8 ";
    CudaStatus.check(status, "cuTensorMapEncodeTiled(" + type + spec.outer() + " x " + spec.inner() + " at 0x"
        + Long.toHexString(spec.address()) + ", row stride " + spec.rowStrideBytes() + " B, box " + spec.boxOuter()
        + " x " + spec.boxInner() + ", " + (spec.swizzle() == TensorMapSpec.SWIZZLE_128B ? "128B swizzle" : "no swizzle")
        + ")", gpu);
    return new TensorMap(out);
  }

  private static String probe() {
    String prefix = "tensor maps are unavailable on " + ShimLibrary.platform() + ": ";
    String shim = SHIM.load();
    if (!shim.isEmpty()) {
      return prefix + shim;
    }
    try {
      String failure = loadDriver(DRIVER_LIBRARY);
      return failure.isEmpty() ? "" : prefix + failure;
    } catch (UnsatisfiedLinkError e) {
      return prefix + "the tensor-map shim does not match this class: " + e.getMessage();
    }
  }

  private static native String loadDriver(String library);

  private static native int encodeTiled2d(int dataType, long address, long inner, long outer, long strideBytes,
      int boxInner, int boxOuter, int interleave, int swizzle, int l2Promotion, int oobFill, byte[] out);
}
