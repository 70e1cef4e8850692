package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CopyBandwidth;
import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.engine.FamilyTimeline;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.StepBytes;
import io.decodefleet.agent.engine.StepProfile;

/**
 * The CUDA backend's profiled steps ({@code --profile-steps}): the family events each one records
 * and the copy bandwidth their floors divide by, measured once before the first of them (bf16: two
 * bytes an element).
 */
final class ProfiledSteps implements AutoCloseable {
  private final CudaContext ctx;
  private final CudaStream stream;
  private FamilyEvents events;
  private double copyBytesPerUs;
  private int weightBytes = 2; // a layer projection's weight element: 1 for FP8 codes
  private int kvBytes = 2; // a cached K or V element: 1 for an FP8 cache

  ProfiledSteps(CudaContext ctx, CudaStream stream) {
    this.ctx = ctx;
    this.stream = stream;
  }

  /**
   * The timeline of the next step, emptied; the first call measures the copy bandwidth first. Its floors count
   * FP8 codes where {@code fp8Weights} and an FP8 cache where {@code fp8Kv} (a byte an element).
   */
  FamilyTimeline next(StepEvents steps, boolean fp8Weights, boolean fp8Kv) {
    weightBytes = fp8Weights ? 1 : 2;
    kvBytes = fp8Kv ? 1 : 2;
    if (events == null) {
      copyBytesPerUs = CopyBandwidth.measure(ctx, stream);
      steps.resetGap(); // the measurement is not idle time between decode steps
      events = new FamilyEvents(ctx, stream);
    }
    events.reset();
    return events;
  }

  /** The profile of the step just run on the timeline {@link #next} gave, {@code stepMicros} long. */
  StepProfile profile(ModelConfig c, ForwardBatch batch, double stepMicros) {
    return StepProfile.of(batch.numSampled(), stepMicros, events.micros(),
        StepBytes.of(c, batch, 2, weightBytes, kvBytes), copyBytesPerUs);
  }

  @Override
  public void close() {
    if (events != null) events.close();
  }
}
