package io.decodefleet.agent.backend.cuda.gemm;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.NativeStream;
import io.decodefleet.agent.cublas.CublasLt;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * cuBLASLt on one GPU's stream: a handle, a workspace, and one plan per GEMM shape, made the first
 * time the shape is asked for (at model load for every shape the decode graphs use, so nothing is
 * planned during a capture). Runs on the engine thread, with the GPU's context current.
 */
public final class CublasLtGemms implements AutoCloseable {

  /** Workspace of every cuBLASLt launch (the size cuBLAS recommends on Hopper). */
  public static final long WORKSPACE_BYTES = 32L << 20;

  private final String device;
  private final long handle;
  private final DeviceBuffer workspace;
  private final long stream;
  /** shape → plan; empty where cuBLASLt has no algorithm for the shape */
  private final Map<GemmShape, Optional<CublasLt.Plan>> plans = new HashMap<>();
  /** the same for the FP8 form (e4m3 x and w, a scale per row of each) */
  private final Map<GemmShape, Optional<CublasLt.Plan>> fp8Plans = new HashMap<>();

  private CublasLtGemms(String device, long handle, DeviceBuffer workspace, long stream) {
    this.device = device;
    this.handle = handle;
    this.workspace = workspace;
    this.stream = stream;
  }

  /** cuBLASLt on {@code stream}; fails with the one-line reason where it is unavailable here. */
  public static CublasLtGemms open(CudaContext ctx, CudaStream stream) {
    if (!CublasLt.isAvailable()) {
      throw new IllegalStateException(CublasLt.unavailabilityCause());
    }
    String device = ctx.gpu().label();
    DeviceBuffer ws = ctx.allocate(WORKSPACE_BYTES);
    try {
      return new CublasLtGemms(device, CublasLt.create(device), ws, NativeStream.address(stream));
    } catch (RuntimeException e) {
      ws.close();
      throw e;
    }
  }

  /** "cuBLASLt 130000 (libcublasLt.so.13)": how load lines and reports name it. */
  public static String describe() {
    return CublasLt.isAvailable() ? "cuBLASLt " + CublasLt.version() + " (" + CublasLt.library() + ")"
        : "no cuBLASLt";
  }

  /** How many algorithms cuBLASLt offers for {@code shape} (0: none; ours must run it). */
  public int algorithms(GemmShape shape) {
    return plan(shape).map(CublasLt.Plan::algorithms).orElse(0);
  }

  /** y = x · wᵀ with algorithm {@code algorithm} of the shape's plan, on the stream. */
  public void launch(GemmShape shape, int algorithm, long y, long x, long w) {
    CublasLt.Plan p = plan(shape).orElseThrow(() -> new IllegalStateException(
        "cuBLASLt has no algorithm for " + shape + " on " + device));
    CublasLt.gemm(handle, p, algorithm, y, x, w, workspace.address(), WORKSPACE_BYTES, stream, device);
  }

  /** How many algorithms cuBLASLt offers for the FP8 form of {@code shape} (0: none on this device). */
  public int fp8Algorithms(GemmShape shape) {
    return fp8Plan(shape).map(CublasLt.Plan::algorithms).orElse(0);
  }

  /**
   * The FP8 form: y = x · wᵀ over e4m3 codes, output (i, j) scaled by {@code xScales[i] · wScales[j]}
   * (float32 device vectors), with algorithm {@code algorithm} of the shape's FP8 plan, on the stream.
   */
  public void launchFp8(GemmShape shape, int algorithm, long y, long x, long xScales, long w, long wScales) {
    CublasLt.Plan p = fp8Plan(shape).orElseThrow(() -> new IllegalStateException(
        "cuBLASLt has no FP8 algorithm for " + shape + " on " + device));
    CublasLt.gemmFp8(handle, p, algorithm, y, x, xScales, w, wScales, workspace.address(), WORKSPACE_BYTES, stream,
        device);
  }

  private Optional<CublasLt.Plan> fp8Plan(GemmShape s) {
    return fp8Plans.computeIfAbsent(s, k -> Optional.ofNullable(CublasLt.planFp8(handle, k.m(), k.n(), k.k(),
        k.stride(), k.outFloat(), WORKSPACE_BYTES, CublasLt.MAX_ALGORITHMS, device)));
  }

  private Optional<CublasLt.Plan> plan(GemmShape s) {
    return plans.computeIfAbsent(s, k -> Optional.ofNullable(CublasLt.plan(handle, k.m(), k.n(), k.k(), k.stride(),
        k.outFloat(), WORKSPACE_BYTES, CublasLt.MAX_ALGORITHMS, device)));
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (Optional<CublasLt.Plan> p : plans.values()) {
      p.ifPresent(CublasLt::destroyPlan);
    }
    for (Optional<CublasLt.Plan> p : fp8Plans.values()) {
      p.ifPresent(CublasLt::destroyPlan);
    }
    plans.clear();
    fp8Plans.clear();
    try {
      CublasLt.destroy(handle, device);
    } catch (RuntimeException e) {
      first = e;
    }
    workspace.close();
    if (first != null) throw first;
  }
}
