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
 * <p>{@value #SETTING_ENV}: {@code on} for every launch of ours, {@code off} for none, and by default
 * ({@link Mode#AUTO}) for the launches of steps with at most {@value #AUTO_MAX_DECODE_ROWS} decode rows
 * (prompts included), where it was measured faster on an H100; decode steps of more rows, where it was
 * slower there, and launches outside steps (loading, tuning) stay ordinary. Only where the shim and the
 * driver's {@code cuLaunchKernelEx} are present ({@link #unavailabilityCause()}). cuBLASLt's and
 * NCCL's launches are theirs and stay ordinary.
 */
public final class ProgrammaticLaunch {

  /** {@code on}, {@code off} or {@code auto} (the default): see the class comment. */
  public static final String SETTING_ENV = "DECODEFLEET_PDL";

  /** Under {@link Mode#AUTO}, the most decode rows a step may have for its launches to use it. */
  public static final int AUTO_MAX_DECODE_ROWS = 8;

  /** Which launches use programmatic dependent launch. */
  public enum Mode {
    /** None. */
    OFF,
    /** Every launch of ours. */
    ON,
    /** The launches of steps with at most {@link #AUTO_MAX_DECODE_ROWS} decode rows. */
    AUTO;

    /** Whether the launches of a step with {@code decodeRows} decode rows use it. */
    public boolean forStep(int decodeRows) {
      return this == ON || (this == AUTO && decodeRows <= AUTO_MAX_DECODE_ROWS);
    }

    /** Whether launches outside steps (loading, tuning, the self-test and benches) use it. */
    public boolean outsideSteps() {
      return this == ON;
    }

    /** What a load line says of it: "" when off. */
    public String label() {
      return switch (this) {
        case OFF -> "";
        case ON -> " (programmatic dependent launch)";
        case AUTO -> " (programmatic dependent launch for steps of at most " + AUTO_MAX_DECODE_ROWS + " decode rows)";
      };
    }
  }

  private static final String UNAVAILABLE = probe();
  private static final Method NATIVE_POINTER = nativePointerMethod();

  private ProgrammaticLaunch() {}

  /** "" when it can be used here, else one line saying why not. */
  public static String unavailabilityCause() {
    return UNAVAILABLE;
  }

  /** What {@value #SETTING_ENV} asks for. */
  public static Mode requested() {
    return requested(System.getenv(SETTING_ENV));
  }

  /**
   * {@code on}, {@code 1} or {@code true}: {@link Mode#ON}; {@code off}, {@code 0} or {@code false}: {@link
   * Mode#OFF}; unset, blank or {@code auto}: {@link Mode#AUTO}; any case, blanks around. Anything else is
   * refused (one line naming the setting), not read as one of these.
   */
  static Mode requested(String value) {
    if (value == null || value.isBlank() || value.strip().equalsIgnoreCase("auto")) return Mode.AUTO;
    if (EnvSetting.on(value)) return Mode.ON;
    if (!EnvSetting.notOff(value)) return Mode.OFF;
    throw new IllegalArgumentException(SETTING_ENV + "=" + value.strip() + ": expected on, off or auto");
  }

  /** What kernels launch with here: {@link #requested()} where available, else {@link Mode#OFF}. */
  public static Mode enabled() {
    return UNAVAILABLE.isEmpty() ? requested() : Mode.OFF;
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
