package io.decodefleet.agent.backend.cuda.driver;

import io.decodefleet.kernels.cuda.Fatbin;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KernelParams;
import io.decodefleet.kernels.cuda.LaunchShape;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * The fatbin of {@code decodefleet-kernels} loaded into one context ({@code cuModuleLoadData}),
 * with its functions looked up once and their shared-memory limits raised where a kernel needs
 * more than the default 48 KiB.
 */
public final class KernelModule implements AutoCloseable {

  private final CudaContext ctx;
  private final CUmodule module;
  private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
  private final Map<Kernel, Integer> residentPerSm = new EnumMap<>(Kernel.class);
  private final Map<List<Integer>, Integer> residentAtShared = new HashMap<>(); // (kernel ordinal, bytes)
  private final ProgrammaticLaunch.Mode programmaticMode = ProgrammaticLaunch.enabled();
  private boolean programmatic = programmaticMode.outsideSteps(); // for the launches from now on
  private boolean closed;

  private KernelModule(CudaContext ctx, CUmodule module) {
    this.ctx = ctx;
    this.module = module;
  }

  /** Which of this module's launches use programmatic dependent launch ({@link ProgrammaticLaunch}). */
  public ProgrammaticLaunch.Mode programmaticLaunch() {
    return programmaticMode;
  }

  /**
   * The launches from now on belong to a step with {@code decodeRows} decode rows (a graph's capture
   * included): they use programmatic dependent launch where the mode says so for such a step.
   */
  public void forStep(int decodeRows) {
    programmatic = programmaticMode.forStep(decodeRows);
  }

  /** The launches from now on are outside steps again (loading, tuning): as the mode says of those. */
  public void outsideSteps() {
    programmatic = programmaticMode.outsideSteps();
  }

  /** What a load line says of {@link #programmaticLaunch()}: "" when off. */
  public String launchLabel() {
    return programmaticMode.label();
  }

  /** Loads the fatbin into {@code ctx}, which must be current on the calling thread. */
  public static KernelModule load(CudaContext ctx) {
    if (!Fatbin.isPresent()) {
      throw new IllegalStateException(Fatbin.absenceReason());
    }
    CUmodule module = new CUmodule();
    ctx.check(JCudaDriver.cuModuleLoadData(module, Fatbin.bytes()),
        "cuModuleLoadData(" + Fatbin.RESOURCE.substring(Fatbin.RESOURCE.lastIndexOf('/') + 1)
            + ")");
    if (ProgrammaticLaunch.requested() == ProgrammaticLaunch.Mode.ON
        && ProgrammaticLaunch.enabled() != ProgrammaticLaunch.Mode.ON) {
      org.slf4j.LoggerFactory.getLogger(KernelModule.class).warn("{}: {} is on but {}", ctx.gpu().label(),
          ProgrammaticLaunch.SETTING_ENV, ProgrammaticLaunch.unavailabilityCause());
    }
    KernelModule m = new KernelModule(ctx, module);
    try {
      // Every lookup now, none later: lookups are not allowed while a stream is being captured.
      for (Kernel k : Kernel.values()) {
        m.function(k);
      }
    } catch (RuntimeException e) {
      JCudaDriver.cuModuleUnload(module); // the lookup failure is the error to report
      throw e;
    }
    return m;
  }

  public CudaContext context() {
    return ctx;
  }

  /** CTAs of {@code kernel} one SM holds at once at its block size and shared memory. */
  public int residentPerSm(Kernel kernel) {
    return residentPerSm.computeIfAbsent(kernel, k -> {
      int[] n = new int[1];
      ctx.check(JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(
          n, function(k), k.threads(), k.sharedBytes()),
          "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + k.symbol() + ")");
      if (n[0] < 1) {
        throw new IllegalStateException(
            k.symbol() + " cannot run on " + ctx.gpu().label() + ": 0 CTAs fit one SM");
      }
      return n[0];
    });
  }

  /** CTAs of {@code kernel} the whole GPU holds at once: the planners' {@code slots}. */
  public int slots(Kernel kernel) {
    return ctx.gpu().smCount() * residentPerSm(kernel);
  }

  /**
   * CTAs of {@code kernel} the whole GPU holds at once where a launch takes {@code sharedBytes} of dynamic
   * shared memory (at most the kernel's own: {@link #slots(Kernel)} counts with that): more where a launch
   * needs less, for kernels whose shared memory follows their shape.
   */
  public int slots(Kernel kernel, int sharedBytes) {
    if (sharedBytes < 0 || sharedBytes > kernel.sharedBytes()) {
      throw new IllegalArgumentException(kernel.symbol() + " takes 0 to " + kernel.sharedBytes()
          + " B of shared memory, not " + sharedBytes);
    }
    if (sharedBytes == kernel.sharedBytes()) return slots(kernel);
    int perSm = residentAtShared.computeIfAbsent(List.of(kernel.ordinal(), sharedBytes), key -> {
      int[] n = new int[1];
      ctx.check(JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(n, function(kernel), kernel.threads(),
          sharedBytes), "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel.symbol() + ", " + sharedBytes + " B)");
      return Math.max(n[0], residentPerSm(kernel));
    });
    return ctx.gpu().smCount() * perSm;
  }

  /** Whether {@code kernel}'s code runs on this context's device ({@link Kernel#runsOn}). */
  public boolean runsHere(Kernel kernel) {
    return kernel.runsOn(ctx.gpu().computeMajor(), ctx.gpu().computeMinor());
  }

  /** Enqueues {@code kernel} with {@code params} on {@code stream}; an empty grid is skipped. */
  public void launch(Kernel kernel, LaunchShape shape, KernelParams params, CudaStream stream) {
    if (!kernel.paramsType().isInstance(params)) {
      throw new IllegalArgumentException(
          kernel.symbol() + " takes " + kernel.paramsType().getSimpleName() + ", not "
              + params.getClass().getSimpleName());
    }
    if (!runsHere(kernel)) {
      throw new IllegalStateException(kernel.symbol() + " has no code for " + ctx.gpu().label() + " ("
          + ctx.gpu().arch() + "): it is built for sm_90a only");
    }
    if (shape.isEmpty()) {
      return;
    }
    if (programmatic) {
      ctx.check(ProgrammaticLaunch.launch(function(kernel), shape.gridX(), shape.gridY(), shape.gridZ(),
          shape.threads(), shape.sharedBytes(), stream.handle(), params.pack()),
          "cuLaunchKernelEx(" + kernel.symbol() + ", programmatic, grid " + shape.gridX() + "x" + shape.gridY() + "x"
              + shape.gridZ() + ", " + shape.sharedBytes() + " B shared)");
      return;
    }
    Pointer args = Pointer.to(Pointer.to(params.pack()));
    ctx.check(JCudaDriver.cuLaunchKernel(function(kernel),
        shape.gridX(), shape.gridY(), shape.gridZ(), shape.threads(), 1, 1,
        shape.sharedBytes(), stream.handle(), args, null),
        "cuLaunchKernel(" + kernel.symbol() + ", grid " + shape.gridX() + "x" + shape.gridY() + "x"
            + shape.gridZ() + ", " + shape.sharedBytes() + " B shared)");
  }

  private CUfunction function(Kernel kernel) {
    CUfunction f = functions.get(kernel);
    if (f == null) {
      f = new CUfunction();
      ctx.check(JCudaDriver.cuModuleGetFunction(f, module, kernel.symbol()),
          "cuModuleGetFunction(" + kernel.symbol() + ")");
      // A kernel whose code does not run on this device (sm_90a-only) is looked up but never
      // launched; its opt-in could exceed what the device allows, so it is not asked for. The
      // default limit covers static and dynamic shared memory together: 48 KiB of dynamic memory
      // beside a static variable (the persistent FP8 d64 decode kernels) needs the opt-in too,
      // or no CTA of it fits an SM.
      if (runsHere(kernel) && kernel.needsSharedOptIn(staticShared(f, kernel))) {
        ctx.check(JCudaDriver.cuFuncSetAttribute(f,
            CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            kernel.sharedBytes()),
            "cuFuncSetAttribute(" + kernel.symbol() + ", max dynamic shared = "
                + kernel.sharedBytes() + ")");
      }
      functions.put(kernel, f);
    }
    return f;
  }

  /** The static shared memory of {@code f}'s code, bytes. */
  private int staticShared(CUfunction f, Kernel kernel) {
    int[] bytes = new int[1];
    ctx.check(JCudaDriver.cuFuncGetAttribute(bytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f),
        "cuFuncGetAttribute(" + kernel.symbol() + ", static shared size)");
    return bytes[0];
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ctx.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload");
    }
  }
}
