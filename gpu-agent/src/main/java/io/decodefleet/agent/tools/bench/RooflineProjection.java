package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ModelConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code gpu-agent bench roofline}: a step-time calibration for a device that is not at hand, projected
 * from its published peak rates and the model's bytes and FLOPs per step — labelled "projection"
 * wherever a simulation shows it.
 *
 * <p>A step takes {@code max(bytes / (HBM bandwidth × memory efficiency), FLOPs / (bf16 tensor rate ×
 * compute efficiency)) + host overhead}:
 *
 * <ul>
 *   <li>decode of b sequences at context c: bytes = bf16 weights read once (all but the embedding,
 *       which is gathered) + b × c × KV bytes per token; FLOPs = 2 b × matmul parameters + attention
 *       4 × head_dim × heads × c × layers per sequence;
 *   <li>prefill of T tokens: bytes = the weights; FLOPs = {@link PromptSteps#prefillFlops};
 *   <li>efficiencies and overhead default to what this project's kernels reached on an H200
 *       (docs/measurements/h200-bench-step-gemm-auto-2026-12-04.json: llama3-8b decode steps moved
 *       59–66 % of the H200's 4.8 TB/s, prefill of 512–2048 tokens ran at 57–58 % of its 989 TFLOP/s,
 *       wall minus device time 100 µs), and are applied to every device alike — an assumption the
 *       file's notes repeat;
 *   <li>the engine's own host time per sequence in a step (scheduling, inputs, the step report), which
 *       bench step does not time: 13.7 µs, from the one engine run on an H200
 *       (h200-coordinator-1024req-defaults-2026-12-04: graph-replayed steps of about 21 ms at batch
 *       256 against 17.5 ms of bench step wall); a prefill step counts one sequence;
 *   <li>KV hand-off: latency + bytes / (NVLink bandwidth per direction × link efficiency), the
 *       efficiency 0.68 and latency 50 µs from the measured H200 pair (300 GB/s of 450,
 *       docs/measurements/h200x2-kv-transfer-v2.json);
 *   <li>tensor parallelism: the single-device step / (K × 0.82) + 2 × layers × 13 µs, fitted to the
 *       measured llama3-8b tp=2 step on two H200s (docs/measurements/h200x2-bench-tp.txt).
 * </ul>
 */
public final class RooflineProjection {

  /**
   * A device's published figures.
   *
   * @param hbmBytesPerSecond peak memory bandwidth
   * @param bf16FlopsPerSecond dense bf16 tensor-core rate (without sparsity)
   * @param memoryBytes memory per GPU
   * @param linkBytesPerSecond NVLink bandwidth per GPU and direction
   * @param source where the figures are published
   */
  public record Device(String name, double hbmBytesPerSecond, double bf16FlopsPerSecond, double memoryBytes,
      double linkBytesPerSecond, String source) {}

  /** The devices this knows, by name. */
  public static final List<Device> DEVICES = List.of(
      new Device("h200", 4.8e12, 989e12, 141e9, 450e9, "NVIDIA H200 Tensor Core GPU datasheet (SXM): 4.8 TB/s HBM3e, "
          + "1,979 TFLOPS bf16 with sparsity (989 dense), 141 GB, NVLink 900 GB/s"),
      new Device("b200", 8.0e12, 2.25e15, 180e9, 900e9, "NVIDIA HGX B200 datasheet, per GPU: 8 TB/s HBM3e, 4.5 PFLOPS "
          + "bf16 with sparsity (2.25 dense), 180 GB, NVLink 1.8 TB/s"));

  /**
   * Fractions of the peaks reached, the host's time per step, and the engine's host time per sequence
   * in a step (scheduling it, its inputs, its share of the step report) beyond what bench step times.
   */
  public record Efficiency(double memory, double compute, double overheadMicros, double hostMicrosPerSequence) {
    /** What this project's kernels and engine reached on an H200 (see the class comment). */
    public static final Efficiency MEASURED_ON_H200 = new Efficiency(0.62, 0.57, 100, 13.7);
  }

  static final double LINK_EFFICIENCY = 0.68;
  static final double TRANSFER_LATENCY_MICROS = 50;
  static final double TP_EFFICIENCY = 0.82;
  static final double ALL_REDUCE_MICROS = 13;
  /** What the CUDA backend keeps back from the KV pool besides the weights (workspace, graphs). */
  static final double RESERVED_BYTES = 1L << 30;
  static final int BLOCK = 16;
  static final int[] BATCHES = {1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256};
  static final int[] CONTEXTS = {128, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  static final int[] PREFILL = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};

  private RooflineProjection() {}

  public static Device device(String name) {
    return DEVICES.stream().filter(d -> d.name().equals(name.toLowerCase(Locale.ROOT))).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown device '" + name + "' (known: "
            + String.join(", ", DEVICES.stream().map(Device::name).toList()) + ")"));
  }

  /** The projected calibration of {@code model} on {@code device}, one table: persistent+graph (padded to buckets). */
  public static StepCalibration project(Device device, ModelConfig model, Efficiency e, String command) {
    double weightBytes = weightBytes(model);
    double bandwidth = device.hbmBytesPerSecond() * e.memory() / 1e6; // bytes per µs
    double rate = device.bf16FlopsPerSecond() * e.compute() / 1e6; // FLOPs per µs
    long kvPerToken = model.kvBytesPerToken(2);
    List<StepCalibration.DecodePoint> decode = new ArrayList<>();
    for (int c : CONTEXTS) {
      for (int b : BATCHES) {
        double bytes = weightBytes + (double) b * c * kvPerToken;
        double flops = 2.0 * b * matmulParameters(model)
            + 4.0 * model.headDim() * model.numAttentionHeads() * (double) c * model.numHiddenLayers() * b;
        decode.add(new StepCalibration.DecodePoint(b, c, Math.max(bytes / bandwidth, flops / rate) + e.overheadMicros()
            + b * e.hostMicrosPerSequence()));
      }
    }
    List<StepCalibration.PrefillPoint> prefill = new ArrayList<>();
    for (int t : PREFILL) {
      double micros = Math.max(weightBytes / bandwidth, PromptSteps.prefillFlops(model, t) / rate) + e.overheadMicros()
          + e.hostMicrosPerSequence();
      prefill.add(new StepCalibration.PrefillPoint(t, micros));
    }
    long kvBlocks = (long) ((0.9 * device.memoryBytes() - model.parameterCount() * 2.0 - RESERVED_BYTES)
        / ((double) kvPerToken * BLOCK));
    if (kvBlocks < 1) throw new IllegalArgumentException(model.name() + " does not fit one " + device.name());
    StepCalibration.EngineDefaults defaults = new StepCalibration.EngineDefaults((int) Math.min(Integer.MAX_VALUE,
        kvBlocks), 256, 8192, true);
    List<String> notes = List.of(
        "PROJECTION, not a measurement: " + device.source(),
        String.format(Locale.ROOT, "step = max(bytes / (%.1f TB/s x %.2f), FLOPs / (%.0f TFLOP/s x %.2f)) + %.0f us"
            + " + %.1f us per sequence; efficiencies and overhead as this project's kernels reached them on an H200"
            + " (docs/measurements/h200-bench-step-gemm-auto-2026-12-04.json), the per-sequence host time as its engine"
            + " took it there (graph steps of 21 ms at batch 256 against 17.5 ms of bench step,"
            + " h200-coordinator-1024req-defaults-2026-12-04), assumed alike on every device",
            device.hbmBytesPerSecond() / 1e12, e.memory(), device.bf16FlopsPerSecond() / 1e12, e.compute(),
            e.overheadMicros(), e.hostMicrosPerSequence()),
        String.format(Locale.ROOT, "KV pool: 0.9 x %.0f GB - bf16 weights - 1 GiB, in blocks of %d tokens", device
            .memoryBytes() / 1e9, BLOCK),
        String.format(Locale.ROOT, "KV hand-off: %.0f us + bytes / (%.0f GB/s x %.2f), as measured on two H200s "
            + "(docs/measurements/h200x2-kv-transfer-v2.json)", TRANSFER_LATENCY_MICROS, device.linkBytesPerSecond() / 1e9,
            LINK_EFFICIENCY),
        String.format(Locale.ROOT, "tp=K: step / (K x %.2f) + 2 x layers x %.0f us, fitted to llama3-8b tp=2 on two "
            + "H200s (docs/measurements/h200x2-bench-tp.txt)", TP_EFFICIENCY, ALL_REDUCE_MICROS));
    return new StepCalibration(StepCalibration.PROJECTION, "NVIDIA " + device.name().toUpperCase(Locale.ROOT)
        + " (projection)", "cuda", model.name(), BLOCK, Instant.now().toString(), command, null, 0, 0, defaults,
        List.of(new StepCalibration.LayoutTable(1, "persistent+graph", true, decode, prefill)),
        new StepCalibration.KvTransferCost(TRANSFER_LATENCY_MICROS,
            device.linkBytesPerSecond() * LINK_EFFICIENCY / 1e6, kvPerToken),
        new StepCalibration.TensorParallelScaling(TP_EFFICIENCY, ALL_REDUCE_MICROS, model.numHiddenLayers()), notes);
  }

  /** bf16 bytes of the weights one step reads: all but the embedding (gathered), unless it is also the head. */
  static double weightBytes(ModelConfig c) {
    long embed = (long) c.vocabSize() * c.hiddenSize();
    return 2.0 * (c.parameterCount() - (c.tieWordEmbeddings() ? 0 : embed));
  }

  /** Parameters of one token's matmuls: the layers' projections and the head (one row per sampled token). */
  static double matmulParameters(ModelConfig c) {
    long h = c.hiddenSize();
    long perLayer = h * (c.qSize() + 2L * c.kvSize()) + (long) c.qSize() * h + 3L * h * c.intermediateSize();
    return (double) perLayer * c.numHiddenLayers() + (double) h * c.vocabSize();
  }

  /** The batch buckets of {@link #BATCHES} are CUDA graph buckets: checked once, here. */
  static {
    for (int b : BATCHES) {
      if (BatchBuckets.bucketOf(b) != b) throw new AssertionError("batch " + b + " is not a bucket");
    }
  }
}
