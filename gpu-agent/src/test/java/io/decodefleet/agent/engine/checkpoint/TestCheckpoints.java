package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Small checkpoints for tests, written in Java: exported from dummy weights, taken apart into
 * tensors held in memory, and written back whole or changed, so that each refusal can be made from a
 * checkpoint that is otherwise valid.
 */
public final class TestCheckpoints {

  /** A model small enough that a checkpoint of it is a few kilobytes: 2 layers, GQA 4:2. */
  public static final ModelConfig SMALL = new ModelConfig("small", 16, 40, 4, 2, 2, 48, 10000.0, 1e-5f, 4, 256,
      false);

  private TestCheckpoints() {}

  /** One tensor with its bytes. */
  public record Raw(String name, TensorDtype dtype, long[] shape, byte[] bytes) {
    public Raw with(String newName) {
      return new Raw(newName, dtype, shape, bytes);
    }

    SafetensorsWriter.Tensor writable() {
      return new SafetensorsWriter.Tensor(name, dtype, shape, (first, count, out) ->
          out.put(bytes, (int) (first * dtype.bytes()), count * dtype.bytes()));
    }
  }

  /** Exports {@code config}'s dummy weights of seed 0 into {@code dir}. */
  public static Path export(ModelConfig config, CheckpointExport.Dtype dtype, int shards, Path dir) throws IOException {
    CheckpointExport.write(new HostWeights(ModelLoad.dummy(config, 0)), dtype, shards, dir);
    return dir;
  }

  /** Every tensor of a valid checkpoint, read into memory, in file order. */
  public static List<Raw> tensors(Path dir) throws IOException {
    List<Raw> out = new ArrayList<>();
    for (SafetensorsFile f : CheckpointFiles.open(dir).files()) {
      byte[] all = Files.readAllBytes(f.file());
      for (TensorEntry t : f.tensors().values()) {
        byte[] b = new byte[(int) t.byteLength()];
        System.arraycopy(all, (int) t.dataOffset(), b, 0, b.length);
        out.add(new Raw(t.name(), t.dtype(), t.shape(), b));
      }
    }
    return out;
  }

  /** Writes {@code tensors} as {@code dir}/model.safetensors beside a copy of {@code from}'s config.json. */
  public static Path rewrite(Path from, Path dir, List<Raw> tensors) throws IOException {
    Files.createDirectories(dir);
    Files.copy(from.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter.write(dir.resolve(CheckpointFiles.SINGLE), tensors.stream().map(Raw::writable).toList(),
        Map.of("format", "pt"));
    return dir;
  }

  /** Changes {@code dir}/config.json: {@code edit} gets its top-level object. */
  public static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
    edit.accept(c);
    Files.write(dir.resolve("config.json"), json.writeValueAsBytes(c));
  }

  /** A file of an 8-byte length, {@code header} as UTF-8, then {@code data} zero bytes. */
  public static Path raw(Path file, String header, int data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Files.write(file, b.array());
    return file;
  }

  /** A file whose first 8 bytes say {@code length} and that holds {@code rest} more bytes. */
  public static Path withLength(Path file, long length, int rest) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + rest).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(length);
    Files.write(file, b.array());
    return file;
  }
}
