package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors files of a Hugging Face model directory and every tensor in them by name: the
 * shards a {@code model.safetensors.index.json} names, or one {@code model.safetensors}.
 *
 * <p>With an index, refused: a weight_map that is not an object of file names, a file name with a
 * directory in it, a shard that is not there, a tensor the index places in a shard that lacks it, a
 * tensor of a shard that the index does not place there, and a name in two shards.
 */
public record CheckpointFiles(Path directory, List<SafetensorsFile> files, Map<String, TensorEntry> tensors) {

  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";

  public CheckpointFiles {
    files = List.copyOf(files);
    tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
  }

  /** Reads every header of {@code directory}'s checkpoint; no tensor data is read. */
  public static CheckpointFiles open(Path directory) {
    Path index = directory.resolve(INDEX);
    if (Files.isRegularFile(index)) return sharded(directory, index);
    Path single = directory.resolve(SINGLE);
    if (Files.isRegularFile(single)) {
      SafetensorsFile f = SafetensorsFile.read(single);
      return new CheckpointFiles(directory, List.of(f), f.tensors());
    }
    throw new CheckpointException(directory + ": no " + SINGLE + " and no " + INDEX + " (safetensors files here: "
        + safetensorsIn(directory) + ")");
  }

  private static String safetensorsIn(Path directory) {
    try (var s = Files.list(directory)) {
      List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted()
          .toList();
      return names.isEmpty() ? "none" : String.join(", ", names);
    } catch (IOException e) {
      return "cannot list: " + e.getMessage();
    }
  }

  private static CheckpointFiles sharded(Path directory, Path index) {
    JsonNode root;
    try {
      if (Files.size(index) > 64L << 20) throw CheckpointException.file(index, "over 64 MiB: not a shard index");
      root = JsonFiles.object(index, Files.readAllBytes(index), "index");
    } catch (IOException e) {
      throw CheckpointException.file(index, "cannot read: " + e.getMessage());
    }
    JsonNode map = root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw CheckpointException.file(index, "weight_map is missing, empty or not a JSON object");
    }
    Map<String, String> placed = new LinkedHashMap<>(); // tensor -> shard file name
    Map<String, SafetensorsFile> shards = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw CheckpointException.file(index, "weight_map['" + e.getKey() + "'] is not a file name");
      }
      String shard = e.getValue().textValue();
      if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".") || shard.equals("..")) {
        throw CheckpointException.file(index, "weight_map['" + e.getKey() + "'] = '" + shard + "' is not a file name"
            + " in the model directory");
      }
      placed.put(e.getKey(), shard);
      if (!shards.containsKey(shard)) {
        Path file = directory.resolve(shard);
        if (!Files.isRegularFile(file)) {
          throw CheckpointException.file(index, "shard " + shard + " (of tensor " + CheckpointException.quoted(e.getKey()) + ") is not in "
              + directory);
        }
        shards.put(shard, SafetensorsFile.read(file));
      }
    }
    Map<String, TensorEntry> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
      for (TensorEntry t : s.getValue().tensors().values()) {
        String where = placed.get(t.name());
        if (where == null) {
          throw CheckpointException.tensor(t.file(), t.name(), "is not in " + INDEX + "'s weight_map");
        }
        if (!where.equals(s.getKey())) {
          TensorEntry other = tensors.get(t.name());
          throw CheckpointException.tensor(t.file(), t.name(), other != null ? "is also in " + other.file()
              : "is placed in " + where + " by " + INDEX);
        }
        tensors.put(t.name(), t);
      }
    }
    for (Map.Entry<String, String> p : placed.entrySet()) {
      if (!tensors.containsKey(p.getKey())) {
        throw CheckpointException.tensor(directory.resolve(p.getValue()), p.getKey(), "is missing (" + INDEX
            + " places it in this file)");
      }
    }
    return new CheckpointFiles(directory, new ArrayList<>(shards.values()), tensors);
  }

  /** Total bytes of tensor data. */
  public long dataBytes() {
    return tensors.values().stream().mapToLong(TensorEntry::byteLength).sum();
  }
}
