package io.decodefleet.agent.backend.cuda.driver;

import java.lang.reflect.Method;
import jcuda.NativePointerObject;

/**
 * Programmatic dependent launch ({@code cuLaunchKernelEx} with the programmatic stream serialization
 * attribute, through the tensor-map shim: JCuda 12.0 binds no {@code cuLaunchKernelEx}). A kernel
 * launched so may be scheduled while the kernel before it in the stream, or in a captured graph, is
 * still running; every kernel of the fatbin first waits for its predecessor ({@code griddepcontrol.wait}
 * in {@code df::pdl_entry}, common.cuh) and then lets its own successor be scheduled, so a step's
 * launches overlap each other's start-up and tail instead of running back to back. The results are
 * the same either way.
 *
 * <p>Off unless {@value #SETTING_ENV} is {@code on} (not yet measured on a GPU), and only where the
 * shim and the driver's {@code cuLaunchKernelEx} are present ({@link #unavailabilityCause()}).
 * cuBLASLt's and NCCL's launches are theirs and stay ordinary.
 */
public final class ProgrammaticLaunch {

  /** {@code on}, {@code 1} or {@code true}: launch our kernels with programmatic dependent launch. */
  public static final String SETTING_ENV = "DECODEFLEET_PDL";

  private static final String UNAVAILABLE = probe();
  private static final Method NATIVE_POINTER = nativePointerMethod();

  private ProgrammaticLaunch() {}

  /** "" when it can be used here, else one line saying why not. */
  public static String unavailabilityCause() {
    return UNAVAILABLE;
  }

  /** Whether {@value #SETTING_ENV} asks for it (default off). */
  public static boolean requested() {
    return requested(System.getenv(SETTING_ENV));
  }

  /** {@code on}, {@code 1} or {@code true}, any case, blanks around. */
  static boolean requested(String value) {
    return EnvSetting.on(value);
  }

  /** Whether kernels launch with it here: requested and available. */
  public static boolean enabled() {
    return requested() && UNAVAILABLE.isEmpty();
  }

  /**
   * Launches {@code function} on {@code stream} with its one packed parameter; returns the driver's
   * status (the caller checks it).
   */
  static int launch(NativePointerObject function, int gridX, int gridY, int gridZ, int threads, int sharedBytes,
      NativePointerObject stream, byte[] params) {
    return launch(handle(function), gridX, gridY, gridZ, threads, sharedBytes, handle(stream), params);
  }

  /** The driver handle a JCuda object wraps (CUfunction, CUstream). */
  static long handle(NativePointerObject o) {
    try {
      return (long) NATIVE_POINTER.invoke(o);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read the driver handle of " + o + ": " + e, e);
    }
  }

  private static Method nativePointerMethod() {
    try {
      Method m = NativePointerObject.class.getDeclaredMethod("getNativePointer");
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static String probe() {
    String prefix = "programmatic dependent launch is unavailable: ";
    if (!TensorMaps.isAvailable()) return prefix + TensorMaps.unavailabilityCause();
    try {
      if (!hasLaunchKernelEx()) return prefix + "the driver has no cuLaunchKernelEx";
    } catch (UnsatisfiedLinkError e) {
      return prefix + "the shim does not match this class: " + e.getMessage();
    }
    return nativePointerMethod() == null ? prefix + "JCuda's handles cannot be read" : "";
  }

  private static native boolean hasLaunchKernelEx();

  private static native int launch(long function, int gridX, int gridY, int gridZ, int threads, int sharedBytes,
      long stream, byte[] params);
}
