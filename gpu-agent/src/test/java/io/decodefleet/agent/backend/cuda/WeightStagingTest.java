package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.WeightSource;
import io.decodefleet.agent.engine.checkpoint.CheckedCheckpoint;
import io.decodefleet.agent.engine.checkpoint.MappedTensor;
import io.decodefleet.agent.engine.checkpoint.TestCheckpoints;
import io.decodefleet.agent.engine.tp.TensorShard;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.reference.Fp8E4m3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The host half of the CUDA backend's checkpoint upload, with the device copy replaced by a copy into
 * a byte array the size of the weight allocation: every tensor lands at its layout's place as the
 * bf16 of what the CPU backend reads, for a whole model and for a tensor-parallel rank's slices,
 * through staging buffers small enough that tensors and rows straddle them, and the buffers alternate.
 */
class WeightStagingTest {
  private static final ModelConfig MODEL = new ModelConfig("staged", 32, 48, 4, 2, 2, 64, 1e4, 1e-5f, 8, 128, false);

  @TempDir
  Path tmp;

  /** A Qwen2 checkpoint: MODEL with q/k/v biases. */
  private static final ModelConfig BIASED = new ModelConfig("staged-qwen2", 32, 48, 4, 2, 2, 64, 1e4, 1e-5f, 8, 128,
      false, true);

  @ParameterizedTest(name = "{0}, rank {1} of {2}, {3}-byte buffers, biases {4}")
  @CsvSource({"BFLOAT16, 0, 1, 96, false", "FLOAT32, 0, 1, 1000, false", "BFLOAT16, 1, 2, 96, false",
      "FLOAT32, 1, 2, 34, false", "BFLOAT16, 0, 1, 96, true", "FLOAT32, 1, 2, 34, true"})
  void everyTensorLandsAtItsPlaceAsTheBf16OfWhatTheCpuBackendReads(CheckpointExport.Dtype dtype, int rank, int size,
      int bufferBytes, boolean biases) throws IOException {
    ModelConfig model = biases ? BIASED : MODEL;
    Path dir = TestCheckpoints.export(model, dtype, 2, tmp.resolve(dtype + "-" + rank + "-" + biases));
    ModelLoad load = ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(
        ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO));
    CheckedCheckpoint checkpoint = ((WeightSource.Checkpoint) load.weights()).checkpoint();
    TensorShard shard = new TensorShard(rank, size);
    WeightLayout layout = new WeightLayout(load.config(), shard);
    byte[] arena = new byte[(int) layout.totalBytes()];
    ByteBuffer[] buffers = {ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN),
        ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN)};
    List<Integer> order = new ArrayList<>();
    WeightStaging staging = new WeightStaging(buffers, (buffer, arenaOffset, bytes) -> {
      assertTrue(bytes > 0 && bytes <= bufferBytes, bytes + " bytes");
      System.arraycopy(buffers[buffer].array(), 0, arena, (int) arenaOffset, bytes);
      order.add(buffer);
    });
    for (WeightLayout.Tensor t : layout.tensors()) {
      staging.tensor(t, MappedTensor.map(t.in(checkpoint)));
    }
    for (int i = 1; i < order.size(); i++) assertTrue(order.get(i) != order.get(i - 1), "buffers alternate");

    HostWeights host = new HostWeights(load);
    ByteBuffer a = ByteBuffer.wrap(arena).order(ByteOrder.LITTLE_ENDIAN);
    for (WeightLayout.Tensor t : layout.tensors()) {
      TensorShard.Window w = t.window();
      float[] want = host.read(t.kind(), t.layer(), w.elements(), w::index);
      for (int i = 0; i < want.length; i++) {
        short got = a.getShort((int) (t.byteOffset() + 2L * i));
        if (got != Bf16.fromFloat(want[i])) {
          throw new AssertionError(t.kind() + " of layer " + t.layer() + " element " + i + ": staged "
              + Bf16.toFloat(got) + ", CPU reads " + want[i]);
        }
      }
    }
    assertEquals(3 + (biases ? 12 : 9) * model.numHiddenLayers(), layout.tensors().size(), "q/k/v biases per layer");
  }

  /**
   * A Mixtral checkpoint (tiny-moe exported) and a Qwen3-MoE one (tiny-qwen3-moe: q/k norms too):
   * every router and expert tensor lands at its layout's place, experts back to back, and each
   * layer's self_attn.q_norm / k_norm at its qNorm / kNorm, as the bf16 of what the CPU backend reads.
   */
  @ParameterizedTest(name = "{0}, {1}, {2}-byte buffers")
  @CsvSource({"tiny-moe, BFLOAT16, 96", "tiny-moe, FLOAT32, 1000", "tiny-qwen3-moe, BFLOAT16, 96",
      "tiny-qwen3-moe, FLOAT32, 34"})
  void aMixtureOfExpertsCheckpointsExpertsLandAtTheirPlacesAsWhatTheCpuBackendReads(String model,
      CheckpointExport.Dtype dtype, int bufferBytes) throws IOException {
    ModelConfig moe = ModelConfig.preset(model);
    Path dir = TestCheckpoints.export(moe, dtype, 2, tmp.resolve(model + "-" + dtype));
    ModelLoad load = ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(
        ModelSpec.LoadFormat.SAFETENSORS, ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.AUTO));
    CheckedCheckpoint checkpoint = ((WeightSource.Checkpoint) load.weights()).checkpoint();
    WeightLayout layout = new WeightLayout(load.config());
    byte[] arena = new byte[(int) layout.totalBytes()];
    ByteBuffer[] buffers = {ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN),
        ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN)};
    WeightStaging staging = new WeightStaging(buffers, (buffer, arenaOffset, bytes) ->
        System.arraycopy(buffers[buffer].array(), 0, arena, (int) arenaOffset, bytes));
    for (WeightLayout.Tensor t : layout.tensors()) staging.tensor(t, MappedTensor.map(t.in(checkpoint)));

    HostWeights host = new HostWeights(load);
    ByteBuffer a = ByteBuffer.wrap(arena).order(ByteOrder.LITTLE_ENDIAN);
    int experts = 0;
    int qkNorms = 0;
    for (WeightLayout.Tensor t : layout.tensors()) {
      TensorShard.Window w = t.window();
      float[] want = host.read(t.kind(), t.layer(), t.expert(), w.elements(), w::index);
      for (int i = 0; i < want.length; i++) {
        short got = a.getShort((int) (t.byteOffset() + 2L * i));
        if (got != Bf16.fromFloat(want[i])) {
          throw new AssertionError(t.kind() + " of layer " + t.layer() + " expert " + t.expert() + " element " + i
              + ": staged " + Bf16.toFloat(got) + ", CPU reads " + want[i]);
        }
      }
      if (t.kind().perExpert()) experts++;
      if (t.kind() == io.decodefleet.agent.engine.DummyWeights.Kind.Q_NORM) {
        assertEquals(layout.layer(t.layer()).qNorm(), t.byteOffset());
        qkNorms++;
      } else if (t.kind() == io.decodefleet.agent.engine.DummyWeights.Kind.K_NORM) {
        assertEquals(layout.layer(t.layer()).kNorm(), t.byteOffset());
        qkNorms++;
      }
    }
    assertEquals(3 * moe.moe().numExperts() * moe.numHiddenLayers(), experts);
    assertEquals(moe.qkNorm() ? 2 * moe.numHiddenLayers() : 0, qkNorms);
  }

  /**
   * FP8: an FP8 checkpoint's codes and per-channel scales land as they are, and a bf16 checkpoint
   * with --quantization fp8 is quantized per tensor as the CPU backend quantizes it: every code
   * times its row's scale equals, bit for bit, what HostWeights reads; bf16 tensors stay bf16.
   */
  @ParameterizedTest(name = "{0} checkpoint, quantization {1}, rank {2} of {3}, {4}-byte buffers")
  @CsvSource({"FP8, NONE, 0, 1, 96", "FP8, FP8, 1, 2, 34", "BFLOAT16, FP8, 0, 1, 1000", "FLOAT32, FP8, 1, 2, 34"})
  void fp8ProjectionsLandAsCodesWithRowScalesThatDecodeToWhatTheCpuBackendReads(CheckpointExport.Dtype dtype,
      ModelSpec.Quantization quantization, int rank, int size, int bufferBytes) throws IOException {
    Path dir = TestCheckpoints.export(MODEL, dtype, 2, tmp.resolve(dtype + "-" + quantization + "-" + rank));
    ModelLoad load = ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(
        ModelSpec.LoadFormat.SAFETENSORS, quantization, ModelSpec.KvCacheDtype.AUTO));
    assertTrue(load.fp8Weights());
    CheckedCheckpoint checkpoint = ((WeightSource.Checkpoint) load.weights()).checkpoint();
    WeightLayout layout = new WeightLayout(load.config(), new TensorShard(rank, size), true);
    byte[] arena = new byte[(int) layout.totalBytes()];
    ByteBuffer[] buffers = {ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN),
        ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN)};
    WeightStaging staging = new WeightStaging(buffers, (buffer, arenaOffset, bytes) ->
        System.arraycopy(buffers[buffer].array(), 0, arena, (int) arenaOffset, bytes));
    long staged = 0;
    for (WeightLayout.Tensor t : layout.tensors()) {
      staging.tensor(t, MappedTensor.map(t.in(checkpoint)));
      staged += t.bytes() + (t.fp8() ? 4L * t.rows() : 0);
    }
    assertEquals(staged, CheckpointUpload.uploadBytes(layout));

    HostWeights host = new HostWeights(load);
    ByteBuffer a = ByteBuffer.wrap(arena).order(ByteOrder.LITTLE_ENDIAN);
    int fp8Tensors = 0;
    for (WeightLayout.Tensor t : layout.tensors()) {
      TensorShard.Window w = t.window();
      float[] want = host.read(t.kind(), t.layer(), w.elements(), w::index);
      assertEquals(HostWeights.quantizable(t.kind()), t.fp8(), t.kind() + " is FP8 exactly when it is a projection");
      if (t.fp8()) fp8Tensors++;
      for (int i = 0; i < want.length; i++) {
        float got = t.fp8()
            ? Fp8E4m3.decode(a.get((int) (t.byteOffset() + i))) * a.getFloat((int) (t.scaleOffset() + 4L * (i / t.cols())))
            : Bf16.toFloat(a.getShort((int) (t.byteOffset() + 2L * i)));
        float expected = t.fp8() ? want[i] : Bf16.toFloat(Bf16.fromFloat(want[i]));
        if (Float.floatToIntBits(got) != Float.floatToIntBits(expected)) {
          throw new AssertionError(t.kind() + " of layer " + t.layer() + " element " + i + ": staged " + got
              + ", CPU reads " + expected);
        }
      }
    }
    assertEquals(7 * MODEL.numHiddenLayers(), fp8Tensors);
  }

  @Test
  void theFp8LayoutHalvesTheProjectionsAndPlacesARowScaleForEveryRowOfEachFusedMatrix() {
    ModelConfig c = ModelConfig.preset("llama3-8b");
    WeightLayout bf16 = new WeightLayout(c);
    WeightLayout fp8 = new WeightLayout(c, TensorShard.WHOLE, true);
    long projections = 0;
    for (WeightLayout.Tensor t : bf16.tensors()) {
      if (HostWeights.quantizable(t.kind())) projections += t.elements();
    }
    long scales = 4L * c.numHiddenLayers() * (c.qSize() + 2L * c.kvSize() + c.hiddenSize()
        + 2L * c.intermediateSize() + c.hiddenSize());
    assertEquals(projections + scales, fp8.fp8Bytes());
    long saved = bf16.totalBytes() - fp8.totalBytes();
    // Half of every projection's bytes, less the scales and up to 256 bytes of alignment per region.
    assertTrue(saved <= projections - scales && saved >= projections - scales - 256L * 8 * c.numHiddenLayers(),
        saved + " bytes saved");
    WeightLayout.LayerWeights l = fp8.layer(3);
    assertEquals(l.qkv() + (c.qSize() + 2L * c.kvSize()) * c.hiddenSize(), l.qkvScales(), "scales right after qkv");
    assertTrue(l.o() >= l.qkvScales() + 4L * (c.qSize() + 2 * c.kvSize()));
    assertEquals(-1, bf16.layer(3).qkvScales());
    for (WeightLayout.Tensor t : fp8.tensors()) {
      if (t.kind() == io.decodefleet.agent.engine.DummyWeights.Kind.K_PROJ && t.layer() == 3) {
        assertEquals(l.qkvScales() + 4L * c.qSize(), t.scaleOffset(), "k's rows follow q's");
        assertEquals(c.kvSize(), t.rows());
      }
    }
    assertEquals(2L * c.intermediateSize() * c.hiddenSize(), fp8.largestProjectionElements());
  }

  @Test
  void theUploadProgressLineGivesBytesShareAndRate() {
    CheckpointUpload.Progress p = new CheckpointUpload.Progress("GPU 0", 16_000_000_000L);
    p.add(1_600_000_000L);
    assertEquals("GPU 0: checkpoint upload 1600.0 MB of 16000.0 MB (10%), 2.00 GB/s", p.line(800_000_000L));
    assertEquals("uploaded 16.00 GB from the checkpoint in 8.0 s (2.00 GB/s, no read-ahead)",
        new CheckpointUpload.Outcome(16_000_000_000L, 8_000_000_000L).describe());
    assertEquals("uploaded 16.00 GB from the checkpoint in 8.0 s (2.00 GB/s, 4 threads reading ahead)",
        new CheckpointUpload.Outcome(16_000_000_000L, 8_000_000_000L, 4).describe());
  }

  @Test
  void theReadAheadSettingIsACountOfThreads() {
    assertEquals(4, CheckpointUpload.readAheadThreads(null));
    assertEquals(4, CheckpointUpload.readAheadThreads(" "));
    assertEquals(0, CheckpointUpload.readAheadThreads("0"));
    assertEquals(8, CheckpointUpload.readAheadThreads(" 8 "));
    for (String bad : new String[] {"-1", "65", "on", "2.5"}) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> CheckpointUpload.readAheadThreads(bad));
      assertEquals("DECODEFLEET_CHECKPOINT_READ_AHEAD must be a number of threads from 0 to 64, got '" + bad + "'",
          e.getMessage());
    }
  }

  @Test
  void theCudaBackendRefusesWhatItHasNoKernelsForWithOneLine() {
    ModelLoad plain = ModelLoad.dummy(MODEL, 0);
    assertTrue(DeviceWeights.unsupported(plain).isEmpty());
    assertTrue(DeviceWeights.unsupported(plain.with(ModelSpec.Quantization.FP8, ModelSpec.KvCacheDtype.FP8)).isEmpty(),
        "FP8 weights and KV cache run on the CUDA backend");
    ModelConfig biased = new ModelConfig("b", 32, 48, 4, 2, 2, 64, 1e4, 1e-5f, 8, 128, false, true);
    assertTrue(DeviceWeights.unsupported(ModelLoad.dummy(biased, 0)).isEmpty(), "q/k/v biases (Qwen2) run on CUDA");
    ModelLoad fp8Moe = ModelLoad.dummy(ModelConfig.preset("tiny-moe"), 0).with(ModelSpec.Quantization.FP8,
        ModelSpec.KvCacheDtype.AUTO);
    assertTrue(DeviceWeights.unsupported(fp8Moe).orElseThrow().startsWith("the CUDA backend holds a mixture of"
        + " experts' experts in bf16 only"));
  }
}
