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

  @ParameterizedTest(name = "{0}, rank {1} of {2}, {3}-byte buffers")
  @CsvSource({"BFLOAT16, 0, 1, 96", "FLOAT32, 0, 1, 1000", "BFLOAT16, 1, 2, 96", "FLOAT32, 1, 2, 34"})
  void everyTensorLandsAtItsPlaceAsTheBf16OfWhatTheCpuBackendReads(CheckpointExport.Dtype dtype, int rank, int size,
      int bufferBytes) throws IOException {
    Path dir = TestCheckpoints.export(MODEL, dtype, 2, tmp.resolve(dtype + "-" + rank));
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
      staging.tensor(t, MappedTensor.map(checkpoint.tensor(t.kind().tensor(), Math.max(0, t.layer()))));
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
    assertEquals(3 + 9 * MODEL.numHiddenLayers(), layout.tensors().size());
  }

  @Test
  void theCudaBackendRefusesWhatItHasNoKernelsForWithOneLine() {
    ModelLoad plain = ModelLoad.dummy(MODEL, 0);
    assertTrue(DeviceWeights.unsupported(plain).isEmpty());
    assertEquals("FP8 weights need an FP8 GEMM, which the CUDA backend does not have yet (the CPU backend runs them:"
        + " --backend cpu)", DeviceWeights.unsupported(plain.with(ModelSpec.Quantization.FP8,
            ModelSpec.KvCacheDtype.AUTO)).orElseThrow());
    assertEquals("the CUDA backend's KV cache is bf16 only (--kv-cache-dtype fp8 runs on the CPU backend)",
        DeviceWeights.unsupported(plain.with(ModelSpec.Quantization.NONE, ModelSpec.KvCacheDtype.FP8)).orElseThrow());
    ModelConfig biased = new ModelConfig("b", 32, 48, 4, 2, 2, 64, 1e4, 1e-5f, 8, 128, false, true);
    assertEquals("the CUDA backend adds no q/k/v projection biases (Qwen2) yet (the CPU backend does)",
        DeviceWeights.unsupported(ModelLoad.dummy(biased, 0)).orElseThrow());
  }
}
