package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.engine.FamilyTimeline;
import io.decodefleet.agent.engine.KernelFamily;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * A profiled step's {@link FamilyTimeline} on the device: a CUDA event recorded on the step's stream
 * at each family boundary, so each family's time is the device time between its event and the
 * next. Only an eager step can carry them (a graph replay has no boundaries to record at). Events
 * are pooled and reused step after step.
 */
final class FamilyEvents implements FamilyTimeline, AutoCloseable {

  private final CudaContext ctx;
  private final CudaStream stream;
  private final List<CUevent> pool = new ArrayList<>();
  /** The family whose work follows event i; null where none does. */
  private final List<KernelFamily> following = new ArrayList<>();

  FamilyEvents(CudaContext ctx, CudaStream stream) {
    this.ctx = ctx;
    this.stream = stream;
  }

  /** Forget the last step's events: the next step records from the first again. */
  void reset() {
    following.clear();
  }

  @Override
  public void begin(KernelFamily family) {
    record(family);
  }

  @Override
  public void pause() {
    record(null);
  }

  private void record(KernelFamily family) {
    int i = following.size();
    if (i == pool.size()) {
      CUevent e = new CUevent();
      ctx.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate(kernel family)");
      pool.add(e);
    }
    ctx.check(JCudaDriver.cuEventRecord(pool.get(i), stream.handle()), "cuEventRecord(" + family + ")");
    following.add(family);
  }

  /** After the stream has passed the last event: µs per family, indexed by ordinal. */
  double[] micros() {
    double[] us = new double[KernelFamily.ALL.size()];
    float[] ms = new float[1];
    for (int i = 0; i + 1 < following.size(); i++) {
      KernelFamily family = following.get(i);
      if (family == null) continue;
      ctx.check(JCudaDriver.cuEventElapsedTime(ms, pool.get(i), pool.get(i + 1)), "cuEventElapsedTime(" + family + ")");
      us[family.ordinal()] += ms[0] * 1000.0;
    }
    return us;
  }

  @Override
  public void close() {
    for (CUevent e : pool) JCudaDriver.cuEventDestroy(e);
    pool.clear();
  }
}
