package io.decodefleet.agent.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The header of one safetensors file, checked in full before any tensor byte is read: an 8-byte
 * little-endian header length, that many bytes of JSON ({@code {"name": {"dtype": "BF16", "shape":
 * [rows, cols], "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}}}, then the
 * data, which the offsets index from its first byte.
 *
 * <p>Refused, each with one line naming the file (and the tensor): a file too short for the length,
 * a header over {@link #MAX_HEADER_BYTES} (safetensors' own cap) or past the end of the file, JSON
 * that is malformed, not an object, repeats a name or has anything but whitespace after it (writers
 * pad the header to 8 bytes with spaces); an entry without exactly dtype, shape and data_offsets, an
 * unknown dtype, a negative or non-integral extent or offset, offsets that run backwards or past the
 * end of the file, a byte range whose length is not the shape's elements times the dtype's size,
 * and two tensors whose bytes overlap. Gaps between tensors are allowed: nothing reads them.
 *
 * @param tensors the entries by name, in data order
 * @param metadata the {@code __metadata__} strings (e.g. {"format": "pt"}); empty when absent
 */
public record SafetensorsFile(Path file, long size, Map<String, TensorEntry> tensors, Map<String, String> metadata) {

  /** Largest header accepted, in bytes: the cap of the safetensors library itself. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  public SafetensorsFile {
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    metadata = Map.copyOf(metadata);
  }

  /** Reads and checks {@code file}'s header; no tensor data is read. */
  public static SafetensorsFile read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw CheckpointException.file(file, "file of " + size + " bytes is too short for a safetensors header"
            + " (an 8-byte length comes first)");
      }
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, 0);
      long headerBytes = len.getLong(0);
      if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES) {
        throw CheckpointException.file(file, "header length " + Long.toUnsignedString(headerBytes)
            + " exceeds the cap of " + MAX_HEADER_BYTES + " bytes");
      }
      if (headerBytes < 2 || 8 + headerBytes > size) {
        throw CheckpointException.file(file, "header length " + headerBytes + " does not fit the " + size
            + "-byte file");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerBytes);
      readFully(ch, header, 8);
      return parse(file, size, header.array());
    } catch (IOException e) {
      throw CheckpointException.file(file, "cannot read: " + e.getMessage());
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer into, long position) throws IOException {
    while (into.hasRemaining()) {
      int n = ch.read(into, position + into.position());
      if (n < 0) throw new IOException("unexpected end of file");
    }
  }

  /** Checks a header already read: {@code header} is the JSON, {@code size} the whole file's length. */
  static SafetensorsFile parse(Path file, long size, byte[] header) {
    if (header.length == 0 || header[0] != '{') {
      throw CheckpointException.file(file, "header does not start with '{': not a safetensors file");
    }
    JsonNode root = JsonFiles.object(file, header, "header");
    long dataStart = 8L + header.length;
    long dataSize = size - dataStart;
    Map<String, String> metadata = Map.of();
    List<TensorEntry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals("__metadata__")) {
        metadata = metadata(file, field.getValue());
      } else {
        entries.add(entry(file, field.getKey(), field.getValue(), dataStart, dataSize));
      }
    }
    entries.sort(Comparator.comparingLong(TensorEntry::dataOffset).thenComparingLong(TensorEntry::byteLength));
    TensorEntry previous = null;
    Map<String, TensorEntry> byName = new LinkedHashMap<>();
    for (TensorEntry e : entries) {
      if (previous != null && e.byteLength() > 0 && e.dataOffset() < previous.dataOffset() + previous.byteLength()) {
        throw CheckpointException.tensor(file, e.name(), "bytes [" + (e.dataOffset() - dataStart) + ", "
            + (e.dataOffset() - dataStart + e.byteLength()) + ") overlap tensor " + CheckpointException.quoted(previous.name()) + " ["
            + (previous.dataOffset() - dataStart) + ", " + (previous.dataOffset() - dataStart + previous.byteLength())
            + ")");
      }
      if (e.byteLength() > 0) previous = e;
      byName.put(e.name(), e);
    }
    return new SafetensorsFile(file, size, byName, metadata);
  }

  private static Map<String, String> metadata(Path file, JsonNode node) {
    if (!node.isObject()) throw CheckpointException.file(file, "__metadata__ is not a JSON object");
    Map<String, String> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (!f.getValue().isTextual()) {
        throw CheckpointException.file(file, "__metadata__ value of '" + f.getKey() + "' is not a string");
      }
      out.put(f.getKey(), f.getValue().textValue());
    }
    return out;
  }

  private static TensorEntry entry(Path file, String name, JsonNode node, long dataStart, long dataSize) {
    if (name.isEmpty()) throw CheckpointException.file(file, "a tensor has an empty name");
    if (!node.isObject()) throw CheckpointException.tensor(file, name, "entry is not a JSON object");
    for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!List.of("dtype", "shape", "data_offsets").contains(key)) {
        throw CheckpointException.tensor(file, name, "unknown key '" + key + "' (an entry has dtype, shape and"
            + " data_offsets)");
      }
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw CheckpointException.tensor(file, name, "dtype is missing or not a string");
    }
    TensorDtype dtype = TensorDtype.parse(dtypeNode.textValue()).orElseThrow(() -> CheckpointException.tensor(file,
        name, "unknown dtype '" + dtypeNode.textValue() + "'"));
    long[] shape = integers(file, name, node.get("shape"), "shape", -1);
    long[] offsets = integers(file, name, node.get("data_offsets"), "data_offsets", 2);
    long elements = 1;
    long bytes;
    try {
      for (long d : shape) elements = Math.multiplyExact(elements, d);
      bytes = Math.multiplyExact(elements, dtype.bytes());
    } catch (ArithmeticException e) {
      throw CheckpointException.tensor(file, name, "shape " + java.util.Arrays.toString(shape) + " overflows");
    }
    if (offsets[1] < offsets[0]) {
      throw CheckpointException.tensor(file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] run"
          + " backwards");
    }
    if (offsets[1] > dataSize) {
      throw CheckpointException.tensor(file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] run past"
          + " the end of the file's " + dataSize + " data bytes");
    }
    if (offsets[1] - offsets[0] != bytes) {
      throw CheckpointException.tensor(file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] hold "
          + (offsets[1] - offsets[0]) + " bytes but " + dtype + " " + java.util.Arrays.toString(shape) + " needs "
          + bytes);
    }
    return new TensorEntry(file, name, dtype, shape, dataStart + offsets[0], bytes);
  }

  /** A JSON array of non-negative integers; {@code length} -1 for any length. */
  private static long[] integers(Path file, String name, JsonNode node, String key, int length) {
    if (node == null || !node.isArray()) {
      throw CheckpointException.tensor(file, name, key + " is missing or not an array");
    }
    if (length >= 0 && node.size() != length) {
      throw CheckpointException.tensor(file, name, key + " has " + node.size() + " values, not " + length);
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
        throw CheckpointException.tensor(file, name, key + "[" + i + "] = " + v + " is not a non-negative integer");
      }
      out[i] = v.longValue();
    }
    return out;
  }
}
