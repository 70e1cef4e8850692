package io.decodefleet.kernels.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reads the parameter structs and kernel entry points out of src/main/cuda, as the tests see them. */
final class CudaSources {

  /** One field of a CUDA struct: name and size in bytes (8 for pointers, 4 for int and float, 128 for a TensorMap). */
  record CField(String name, int size) {}

  /** An {@code extern "C" __global__} kernel and the struct type of its one parameter. */
  record CKernel(String symbol, String paramsStruct) {}

  static final Path DIR = Path.of("src/main/cuda");

  private static final Pattern STRUCT =
      Pattern.compile("struct\\s+(\\w+Params)\\s*\\{(.*?)\\};", Pattern.DOTALL);
  private static final Pattern FIELD =
      Pattern.compile("^\\s*(?:const\\s+)?(\\w+)\\s*(\\*?)\\s*(\\w+)\\s*;");
  private static final Pattern SIZE = Pattern.compile("DF_PARAMS_SIZE\\((\\w+),\\s*(\\d+)\\)");
  private static final Pattern KERNEL = Pattern.compile(
      "extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?(df_\\w+)\\s*\\(\\s*const\\s+__grid_constant__\\s+(\\w+)\\s+\\w+\\s*\\)",
      Pattern.DOTALL);

  private CudaSources() {}

  static String allSources() {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".cu")).sorted().toList()) {
        sb.append(Files.readString(p)).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sb.toString();
  }

  static Map<String, List<CField>> structs() {
    Map<String, List<CField>> out = new LinkedHashMap<>();
    Matcher m = STRUCT.matcher(allSources());
    while (m.find()) {
      List<CField> fields = new ArrayList<>();
      for (String line : m.group(2).split("\n")) {
        Matcher f = FIELD.matcher(line);
        if (f.find()) {
          boolean pointer = !f.group(2).isEmpty();
          fields.add(new CField(f.group(3), pointer ? 8 : scalarSize(f.group(1), m.group(1))));
        }
      }
      out.put(m.group(1), fields);
    }
    return out;
  }

  private static int scalarSize(String type, String struct) {
    return switch (type) {
      case "int", "float", "int32_t", "uint32_t" -> 4;
      case "TensorMap" -> TensorMap.BYTES;
      default -> throw new IllegalStateException(struct + " has a field of unexpected type " + type);
    };
  }

  static Map<String, Integer> pinnedSizes() {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher m = SIZE.matcher(allSources());
    while (m.find()) {
      if (!m.group(1).equals("T")) {
        out.put(m.group(1), Integer.parseInt(m.group(2)));
      }
    }
    return out;
  }

  static List<CKernel> kernels() {
    List<CKernel> out = new ArrayList<>();
    Matcher m = KERNEL.matcher(allSources());
    while (m.find()) {
      out.add(new CKernel(m.group(1), m.group(2)));
    }
    return out;
  }
}
