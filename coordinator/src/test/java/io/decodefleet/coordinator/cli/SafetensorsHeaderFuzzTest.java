package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.checkpoint.CheckpointException;
import io.decodefleet.agent.engine.checkpoint.SafetensorsFile;
import io.decodefleet.agent.engine.checkpoint.TensorDtype;
import io.decodefleet.agent.engine.checkpoint.TensorEntry;
import io.decodefleet.coordinator.BoundedTry;
import io.decodefleet.coordinator.JsonArbitraries;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The safetensors header reader that {@code --model DIR} runs on every file before any weight is
 * read (agent.engine.checkpoint.SafetensorsFile; its properties live here, beside the other
 * decoders' and their bounded-try runner). Whatever a file holds, reading it gives a header whose
 * every tensor lies inside the file, or one CheckpointException on one line naming the file; never
 * another exception, a hang or memory out of proportion to the header. Headers written every way
 * the format allows read back exactly, and a header with one broken entry names that tensor.
 */
class SafetensorsHeaderFuzzTest {
  private static final Duration LIMIT = Duration.ofSeconds(10);
  /** Headers here are a few KB; the reader may parse them, not size anything by what they claim. */
  private static final long MAX_BYTES = 32L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> KEYS = List.of("dtype", "shape", "data_offsets", "__metadata__", "w", "b");

  private static Path dir;

  @BeforeContainer
  static void makeDir() throws IOException {
    dir = Files.createTempDirectory("safetensors-fuzz");
  }

  @AfterContainer
  static void removeDir() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  /** One tensor of a generated file: its bytes lie at [begin, begin + length) of the data. */
  record Tensor(String name, TensorDtype dtype, long[] shape, long begin) {
    long length() {
      long n = dtype.bytes();
      for (long d : shape) n *= d;
      return n;
    }
  }

  /** A well-formed file: tensors back to back in {@code order}, header keys in {@code keyOrder}. */
  record Valid(List<Tensor> tensors, List<Integer> keyOrder, int padding, int extraData, boolean metadata) {
    @Override
    public String toString() {
      return "Valid" + tensors.stream().map(t -> t.name() + " " + t.dtype() + java.util.Arrays.toString(t.shape())
          + "@" + t.begin()).toList() + " keys " + keyOrder + " pad " + padding + " extra " + extraData;
    }
  }

  /** A well-formed file with entry {@code victim} broken by {@code breakage}. */
  record Broken(Valid file, int victim, String breakage) {}

  // ---------------------------------------------------------------- properties

  @Property(tries = 400)
  void anyBytesGiveAHeaderInsideTheFileOrOneLineNamingIt(@ForAll("anyFiles") byte[] content) throws Exception {
    Path file = Files.write(dir.resolve("any.safetensors"), content);
    BoundedTry.Outcome<SafetensorsFile> o = BoundedTry.call(LIMIT, MAX_BYTES, () -> SafetensorsFile.read(file));
    if (o.thrown() != null) {
      assertOneLineNaming(file, o.thrown());
      return;
    }
    for (TensorEntry t : o.value().tensors().values()) {
      assertTrue(t.dataOffset() >= 8 && t.dataOffset() + t.byteLength() <= content.length, t.toString());
      assertEquals(t.elements() * t.dtype().bytes(), t.byteLength(), t.toString());
    }
  }

  @Property(tries = 300)
  void aWellFormedHeaderReadsBackExactly(@ForAll("validFiles") Valid v) throws Exception {
    byte[] content = write(v, null);
    Path file = Files.write(dir.resolve("valid.safetensors"), content);
    BoundedTry.Outcome<SafetensorsFile> o = BoundedTry.call(LIMIT, MAX_BYTES, () -> SafetensorsFile.read(file));
    if (o.thrown() != null) throw new AssertionError("a well-formed file was refused: " + v, o.thrown());
    SafetensorsFile f = o.value();
    assertEquals(v.tensors().size(), f.tensors().size());
    long dataStart = content.length - v.extraData() - v.tensors().stream().mapToLong(Tensor::length).sum();
    for (Tensor t : v.tensors()) {
      TensorEntry e = f.tensors().get(t.name());
      assertEquals(t.dtype(), e.dtype(), t.name());
      assertArrayEquals(t.shape(), e.shape(), t.name());
      assertEquals(dataStart + t.begin(), e.dataOffset(), t.name());
      assertEquals(t.length(), e.byteLength(), t.name());
    }
    assertEquals(v.metadata() ? java.util.Map.of("format", "pt") : java.util.Map.of(), f.metadata());
  }

  @Property(tries = 300)
  void oneBrokenEntryIsRefusedNamingItsTensor(@ForAll("brokenFiles") Broken b) throws Exception {
    Path file = Files.write(dir.resolve("broken.safetensors"), write(b.file(), b));
    BoundedTry.Outcome<SafetensorsFile> o = BoundedTry.call(LIMIT, MAX_BYTES, () -> SafetensorsFile.read(file));
    if (o.thrown() == null) throw new AssertionError("a header with " + b.breakage() + " was read: " + b);
    assertOneLineNaming(file, o.thrown());
    String name = b.file().tensors().get(b.victim()).name();
    assertTrue(o.thrown().getMessage().contains("tensor " + CheckpointException.quoted(name)),
        b.breakage() + ": " + o.thrown().getMessage());
  }

  private static void assertOneLineNaming(Path file, Throwable thrown) {
    if (!(thrown instanceof CheckpointException)) throw new AssertionError("not a CheckpointException", thrown);
    String m = thrown.getMessage();
    assertTrue(m.startsWith(file + ": "), m);
    assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
  }

  // ---------------------------------------------------------------- generators

  @Provide
  Arbitrary<byte[]> anyFiles() {
    Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(600);
    Arbitrary<byte[]> jsonHeaders = Combinators.combine(
        JsonArbitraries.objects(JsonArbitraries.values(3, KEYS), KEYS, 6),
        Arbitraries.integers().between(-16, 64), Arbitraries.integers().between(0, 300))
        .as((header, lengthSkew, data) -> framed(header.toString().getBytes(StandardCharsets.UTF_8), lengthSkew, data));
    Arbitrary<byte[]> entries = Combinators.combine(
        JsonArbitraries.objects(JsonArbitraries.objects(JsonArbitraries.values(2, KEYS), KEYS, 4), List.of("w", "b"), 3),
        Arbitraries.integers().between(0, 300))
        .as((header, data) -> framed(header.toString().getBytes(StandardCharsets.UTF_8), 0, data));
    Arbitrary<byte[]> claims = Arbitraries.longs().map(length -> {
      ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(length).put("{\"w\":{\"dtype\":\"F32\",".getBytes(StandardCharsets.UTF_8));
      return b.array();
    });
    return Arbitraries.frequencyOf(Tuple.of(2, noise), Tuple.of(3, jsonHeaders), Tuple.of(4, entries),
        Tuple.of(1, claims));
  }

  /** The length, off by {@code lengthSkew} from the header's own, then the header, then {@code data} bytes. */
  private static byte[] framed(byte[] header, int lengthSkew, int data) {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong((long) header.length + lengthSkew).put(header);
    return b.array();
  }

  private static final List<TensorDtype> DTYPES = List.of(TensorDtype.values());

  @Provide
  Arbitrary<Valid> validFiles() {
    return valid(0);
  }

  @Provide
  Arbitrary<Broken> brokenFiles() {
    List<String> breakages = List.of("unknown dtype", "negative extent", "fractional extent", "offsets backwards",
        "offsets past the end", "wrong length", "overlap", "missing key", "extra key", "shape overflow");
    return valid(1).filter(v -> v.tensors().size() >= 2).flatMap(v -> Combinators.combine(
        Arbitraries.integers().between(1, v.tensors().size() - 1), Arbitraries.of(breakages))
        .as((victim, breakage) -> new Broken(v, victim, breakage)));
  }

  /** Tensors of extents {@code minExtent}..4 back to back, their entries in a shuffled key order. */
  private static Arbitrary<Valid> valid(int minExtent) {
    // Any characters but lone surrogates, which no JSON writer can put in UTF-8.
    Arbitrary<String> names = Arbitraries.strings().withCharRange('\u0000', '\uD7FF').withCharRange('\uE000', '\uFFFF')
        .ofMinLength(1).ofMaxLength(12).filter(s -> !s.equals("__metadata__"));
    Arbitrary<long[]> shapes = Arbitraries.longs().between(minExtent, 4).array(long[].class).ofMaxSize(3)
        .filter(s -> minExtent == 0 || s.length > 0);
    Arbitrary<Tuple.Tuple3<String, TensorDtype, long[]>> tensor =
        Combinators.combine(names, Arbitraries.of(DTYPES), shapes).as(Tuple::of);
    return Combinators.combine(tensor.list().ofMinSize(1).ofMaxSize(8).uniqueElements(Tuple.Tuple3::get1),
        Arbitraries.randoms(), Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 16),
        Arbitraries.of(true, false))
        .as((list, random, padding, extra, metadata) -> {
          List<Tensor> tensors = new ArrayList<>();
          long at = 0;
          for (Tuple.Tuple3<String, TensorDtype, long[]> t : list) {
            Tensor x = new Tensor(t.get1(), t.get2(), t.get3(), at);
            tensors.add(x);
            at += x.length();
          }
          List<Integer> order = new ArrayList<>();
          for (int i = 0; i < tensors.size(); i++) order.add(i);
          Collections.shuffle(order, new Random(random.nextLong()));
          return new Valid(tensors, order, padding, extra, metadata);
        });
  }

  /** The file's bytes: the header (entries in key order, one broken when {@code broken} says so), then zeros. */
  private static byte[] write(Valid v, Broken broken) throws IOException {
    long dataSize = v.tensors().stream().mapToLong(Tensor::length).sum() + v.extraData();
    ObjectNode header = JSON.createObjectNode();
    if (v.metadata()) header.putObject("__metadata__").put("format", "pt");
    for (int i : v.keyOrder()) {
      Tensor t = v.tensors().get(i);
      ObjectNode e = header.putObject(t.name());
      e.put("dtype", t.dtype().name());
      e.putArray("shape");
      for (long d : t.shape()) ((com.fasterxml.jackson.databind.node.ArrayNode) e.get("shape")).add(d);
      e.putArray("data_offsets").add(t.begin()).add(t.begin() + t.length());
      if (broken != null && broken.victim() == i) breakEntry(e, t, v, broken.breakage(), dataSize);
    }
    byte[] json = JSON.writeValueAsBytes(header);
    ByteBuffer b = ByteBuffer.allocate((int) (8 + json.length + v.padding() + dataSize)).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length + v.padding()).put(json);
    for (int i = 0; i < v.padding(); i++) b.put((byte) ' ');
    return b.array();
  }

  /** Breaks entry {@code e} of tensor {@code t} as {@code breakage} says. */
  private static void breakEntry(ObjectNode e, Tensor t, Valid v, String breakage, long dataSize) {
    switch (breakage) {
      case "unknown dtype" -> e.put("dtype", "Q4_K");
      case "negative extent" -> ((com.fasterxml.jackson.databind.node.ArrayNode) e.get("shape")).set(0,
          JSON.getNodeFactory().numberNode(-1));
      case "fractional extent" -> ((com.fasterxml.jackson.databind.node.ArrayNode) e.get("shape")).set(0,
          JSON.getNodeFactory().numberNode(1.5));
      case "offsets backwards" -> e.putArray("data_offsets").add(t.begin() + t.length()).add(t.begin());
      case "offsets past the end" -> e.putArray("data_offsets").add(dataSize).add(dataSize + t.length());
      case "wrong length" -> e.putArray("data_offsets").add(t.begin()).add(t.begin() + t.length() + 1);
      case "overlap" -> {
        // Into the previous tensor in data order (every tensor here has at least one byte).
        Tensor prev = v.tensors().get(v.tensors().indexOf(t) - 1);
        long start = prev.begin() + (prev.length() > 1 ? 1 : 0);
        e.putArray("data_offsets").add(start).add(start + t.length());
      }
      case "missing key" -> e.remove("dtype");
      case "extra key" -> e.put("crc32", 1);
      case "shape overflow" -> e.putArray("shape").add(1L << 40).add(1L << 40);
      default -> throw new IllegalArgumentException(breakage);
    }
  }
}
