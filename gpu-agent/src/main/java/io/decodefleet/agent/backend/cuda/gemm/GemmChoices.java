package io.decodefleet.agent.backend.cuda.gemm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The dispatch's decisions for one device: for each projection (n, k, stride, out type) and each
 * timed row count, the implementation that measured fastest. A launch of m rows takes the decision
 * of the smallest timed row count ≥ m (the graph buckets are timed exactly), else of the largest.
 *
 * <p>Decisions are cached on disk as a small tab-separated file whose first line is the key they
 * hold for (GPU model and architecture, driver, cuBLASLt version, our kernels' build): a cache
 * written under another key is not used.
 */
public final class GemmChoices {

  private static final String HEADER = "# decodefleet GEMM choices";
  private static final String KEY = "# key: ";
  private static final String COLUMNS = "m\tn\tk\tstride\tout\tchoice\tmicros";

  private final String key;
  /** projection (m = 1) → row count → choice, row counts ascending */
  private final Map<GemmShape, java.util.TreeMap<Integer, GemmChoice>> byProjection = new LinkedHashMap<>();

  public GemmChoices(String key) {
    if (key.contains("\n")) {
      throw new IllegalArgumentException("a GEMM cache key is one line: " + key);
    }
    this.key = key;
  }

  public String key() {
    return key;
  }

  public void put(GemmShape shape, GemmChoice choice) {
    byProjection.computeIfAbsent(shape.withRows(1), s -> new java.util.TreeMap<>()).put(shape.m(), choice);
  }

  /** The decision for a launch of {@code shape.m()} rows; empty when the projection was never timed. */
  public Optional<GemmChoice> choiceFor(GemmShape shape) {
    java.util.TreeMap<Integer, GemmChoice> rows = byProjection.get(shape.withRows(1));
    if (rows == null || rows.isEmpty()) {
      return Optional.empty();
    }
    Map.Entry<Integer, GemmChoice> e = rows.ceilingEntry(shape.m());
    return Optional.of((e != null ? e : rows.lastEntry()).getValue());
  }

  /** Whether {@code shape} (at its exact row count) was timed. */
  public boolean timed(GemmShape shape) {
    java.util.TreeMap<Integer, GemmChoice> rows = byProjection.get(shape.withRows(1));
    return rows != null && rows.containsKey(shape.m());
  }

  /** Every decision, projection by projection, rows ascending. */
  public List<Map.Entry<GemmShape, GemmChoice>> entries() {
    List<Map.Entry<GemmShape, GemmChoice>> all = new ArrayList<>();
    byProjection.forEach((p, rows) -> rows.forEach((m, c) -> all.add(Map.entry(p.withRows(m), c))));
    return Collections.unmodifiableList(all);
  }

  /** One line for the load report: how many shapes went to cuBLASLt and how many to ours. */
  public String summary() {
    return summary(entries().stream().map(Map.Entry::getKey).toList());
  }

  /**
   * As {@link #summary()}, over {@code shapes} only: the cache may also hold other models' shapes,
   * which say nothing of this one.
   */
  public String summary(List<GemmShape> shapes) {
    long lt = shapes.stream().map(this::choiceFor).filter(c -> c.isPresent()
        && c.get().kernel() == GemmChoice.Kernel.CUBLASLT).count();
    List<String> named = new ArrayList<>();
    for (GemmChoice.Kernel k : List.of(GemmChoice.Kernel.WGMMA, GemmChoice.Kernel.SKINNY2,
        GemmChoice.Kernel.SKINNY2_FP8, GemmChoice.Kernel.GEMV_FP8, GemmChoice.Kernel.GEMV_FP8_MMA,
        GemmChoice.Kernel.SKINNY_FP8_WGMMA, GemmChoice.Kernel.GEMV_BF16_MMA)) {
      long count = shapes.stream().map(this::choiceFor).filter(c -> c.isPresent() && c.get().kernel() == k).count();
      if (count > 0) named.add(k.label() + " " + count);
    }
    String among = String.join(", ", named);
    return "GEMM dispatch: cuBLASLt " + lt + " of " + shapes.size() + " shapes, ours " + (shapes.size() - lt)
        + (among.isEmpty() ? "" : " (" + among + ")");
  }

  /** Writes the cache file atomically (a reader never sees half a file). */
  public void write(Path file) throws IOException {
    StringBuilder s = new StringBuilder(HEADER).append('\n').append(KEY).append(key).append('\n')
        .append(COLUMNS).append('\n');
    for (Map.Entry<GemmShape, GemmChoice> e : entries()) {
      GemmShape g = e.getKey();
      s.append(g.m()).append('\t').append(g.n()).append('\t').append(g.k()).append('\t').append(g.stride())
          .append('\t').append(g.outFloat() ? "f32" : "bf16").append('\t').append(e.getValue().label())
          .append('\t').append(e.getValue().micros()).append('\n');
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
    Files.writeString(tmp, s, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * The decisions cached in {@code file} for {@code key}; empty when there is no file or it was
   * written for another key. A file that names this key but cannot be read is an error naming the
   * file and line (it was written by this class, so it was damaged).
   */
  public static Optional<GemmChoices> read(Path file, String key) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    if (lines.size() < 3 || !lines.get(0).equals(HEADER) || !lines.get(1).equals(KEY + key)) {
      return Optional.empty();
    }
    GemmChoices c = new GemmChoices(key);
    for (int i = 3; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t");
      try {
        if (f.length != 7 || !(f[4].equals("f32") || f[4].equals("bf16"))) {
          throw new IllegalArgumentException("expected " + COLUMNS.replace('\t', ' '));
        }
        GemmShape shape = new GemmShape(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
            Integer.parseInt(f[3]), f[4].equals("f32"));
        c.put(shape, GemmChoice.parse(f[5], Double.parseDouble(f[6])));
      } catch (IllegalArgumentException e) {
        throw new IOException(file + ":" + (i + 1) + ": " + e.getMessage());
      }
    }
    return Optional.of(c);
  }
}
