package io.decodefleet.coordinator.simulation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.agent.calibration.StepCalibration;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a step-time calibration ({@code gpu-agent bench step --calibration-out}, {@code gpu-agent
 * bench roofline}) back into a {@link StepCalibration}. A file that is not one — wrong format, a
 * missing or mistyped field, a point that is not positive — is refused with one line naming the field.
 */
public final class CalibrationFile {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The calibrations that ship with DecodeFleet, by name (resources beside this class). */
  public static final List<String> BUILT_IN = List.of("cpu-tiny", "cpu-tiny-moe", "h100-llama3-8b",
      "h200-llama3-8b-projection", "b200-llama3-8b-projection");

  private CalibrationFile() {}

  /**
   * A calibration file, or one that ships with DecodeFleet by its name: {@link #BUILT_IN}, or any
   * {@code calibrations/NAME.json} beside this class (a measured calibration ships by being put there).
   *
   * @throws IllegalArgumentException naming the file (or name) and what is wrong with it
   */
  public static StepCalibration load(String fileOrName) {
    Path file = Path.of(fileOrName);
    if (java.nio.file.Files.isRegularFile(file)) return read(file);
    String resource = "calibrations/" + fileOrName + ".json";
    java.net.URL shipped = fileOrName.matches("[A-Za-z0-9][A-Za-z0-9._-]*") ? CalibrationFile.class.getResource(resource)
        : null;
    if (shipped == null) {
      if (BUILT_IN.contains(fileOrName)) {
        throw new IllegalArgumentException("built-in calibration " + fileOrName + " is missing");
      }
      throw new IllegalArgumentException("no such file " + fileOrName + " (or a built-in calibration: "
          + String.join(", ", BUILT_IN) + ")");
    }
    try (java.io.InputStream in = shipped.openStream()) {
      return parse(MAPPER.readTree(in));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read built-in calibration " + fileOrName + ": " + e.getMessage());
    }
  }

  /** @throws IllegalArgumentException naming the file and what is wrong with it */
  public static StepCalibration read(Path file) {
    JsonNode root;
    try {
      root = MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    try {
      return parse(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
  }

  static StepCalibration parse(JsonNode root) {
    if (root == null || !root.isObject()) throw new IllegalArgumentException("not a JSON object");
    String format = text(root, "format");
    if (!StepCalibration.FORMAT.equals(format)) {
      throw new IllegalArgumentException("format must be " + StepCalibration.FORMAT + ", got '" + format + "'");
    }
    JsonNode d = object(root, "defaults");
    StepCalibration.EngineDefaults defaults = new StepCalibration.EngineDefaults(integer(d, "kv_blocks"),
        integer(d, "max_num_seqs"), integer(d, "max_batched_tokens"), bool(d, "prefix_caching"));
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    JsonNode layouts = root.get("layouts");
    if (layouts == null || !layouts.isArray()) throw new IllegalArgumentException("layouts must be an array");
    for (JsonNode t : layouts) {
      List<StepCalibration.DecodePoint> decode = new ArrayList<>();
      for (JsonNode p : array(t, "decode")) {
        decode.add(new StepCalibration.DecodePoint(integer(p, "batch"), integer(p, "context"), number(p, "step_us")));
      }
      List<StepCalibration.PrefillPoint> prefill = new ArrayList<>();
      for (JsonNode p : array(t, "prefill")) {
        prefill.add(new StepCalibration.PrefillPoint(integer(p, "tokens"), number(p, "step_us"),
            p.has("prompts") ? integer(p, "prompts") : 1));
      }
      // "parallelism": "expert" marks an ep=K table; absent (or "tensor"): dp or tp=K.
      String parallelism = t.hasNonNull("parallelism") ? text(t, "parallelism") : "tensor";
      if (!parallelism.equals("tensor") && !parallelism.equals("expert")) {
        throw new IllegalArgumentException("layouts[].parallelism must be tensor or expert, got '" + parallelism + "'");
      }
      tables.add(new StepCalibration.LayoutTable(integer(t, "tensor_parallel"), text(t, "decode_path"),
          bool(t, "padded_to_buckets"), decode, prefill, parallelism.equals("expert"),
          t.hasNonNull("busy_cores") ? number(t, "busy_cores") : Double.NaN));
    }
    StepCalibration.KvTransferCost kv = null;
    if (root.hasNonNull("kv_transfer")) {
      JsonNode k = object(root, "kv_transfer");
      kv = new StepCalibration.KvTransferCost(number(k, "latency_us"), number(k, "bytes_per_us"),
          integer(k, "bytes_per_token"));
    }
    StepCalibration.TensorParallelScaling tp = null;
    if (root.hasNonNull("tensor_parallel")) {
      JsonNode k = object(root, "tensor_parallel");
      tp = new StepCalibration.TensorParallelScaling(number(k, "efficiency"), number(k, "all_reduce_us"),
          integer(k, "layers"));
    }
    StepCalibration.HostSharing host = null;
    if (root.hasNonNull("host")) {
      JsonNode h = object(root, "host");
      host = new StepCalibration.HostSharing(integer(h, "cores"), number(h, "other_cpu"), number(h, "agent_cpu"),
          number(h, "step_inflation"), h.hasNonNull("measured_by") ? text(h, "measured_by") : "",
          h.has("step_cpu_us") ? number(h, "step_cpu_us") : 0);
    }
    List<String> notes = new ArrayList<>();
    if (root.has("notes")) for (JsonNode n : array(root, "notes")) notes.add(n.asText());
    return new StepCalibration(text(root, "kind"), text(root, "device"), text(root, "backend"), text(root, "model"),
        integer(root, "block_size"), text(root, "date"), text(root, "command"), host,
        number(root, "dispatch_us"), number(root, "report_us"), defaults, tables, kv, tp, notes);
  }

  private static JsonNode field(JsonNode node, String name) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) throw new IllegalArgumentException("missing field " + name);
    return v;
  }

  private static String text(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.isTextual()) throw new IllegalArgumentException(name + " must be a string");
    return v.asText();
  }

  private static double number(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.isNumber()) throw new IllegalArgumentException(name + " must be a number, got " + v);
    return v.asDouble();
  }

  private static int integer(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new IllegalArgumentException(name + " must be an integer, got " + v);
    return v.asInt();
  }

  private static boolean bool(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.isBoolean()) throw new IllegalArgumentException(name + " must be true or false, got " + v);
    return v.asBoolean();
  }

  private static JsonNode object(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.isObject()) throw new IllegalArgumentException(name + " must be an object");
    return v;
  }

  private static JsonNode array(JsonNode node, String name) {
    JsonNode v = field(node, name);
    if (!v.isArray()) throw new IllegalArgumentException(name + " must be an array");
    return v;
  }
}
