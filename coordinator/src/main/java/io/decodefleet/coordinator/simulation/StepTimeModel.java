package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.BatchBuckets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The simulated device: how long one engine step takes, interpolated from a calibration's table for
 * one layout and decode path (docs/simulation.md has the rule with examples).
 *
 * <ul>
 *   <li>Each axis is piecewise linear through its measured points. Above the last point the last
 *       segment's line goes on; below the first, the first segment's line, except that its value at 0
 *       is never below 0 (it is then the line from 0 at 0 to the first point). An axis of one point
 *       is flat (a decode axis) or proportional to the tokens (the prefill axis).
 *   <li>Times that fall as batch, context or tokens grow (measurement noise) are lifted to the
 *       largest time at a smaller point first, so every interpolated time grows with the work.
 *   <li>Decode {@code D(b, c)}: the table's time for {@code b} sequences at mean context {@code c},
 *       bilinear in (b, c); a path that replays graphs runs {@code b} padded up to its batch bucket.
 *   <li>Prefill {@code P(T)}: one prompt of {@code T} tokens from position 0.
 *   <li>A step of {@code b} decode rows (one token each) and prefill chunks ({@code p_i} tokens from
 *       position {@code s_i}): {@code D(b, mean context) + Σ [P(s_i + p_i) − P(s_i)]}, or {@code P(0)
 *       + Σ [...]} without decode rows. A chunk costs what the prefill curve adds from its start to
 *       its end, so a chunk late in a long prompt costs more than the first (its attention reads
 *       more context), and the step's fixed cost is counted once.
 *   <li>With steps of several prompts measured ({@code B(n)}: {@code n} prompt tokens split over
 *       short prompts, one step), a step with chunks prices its rows together, as its projections run
 *       them as one batch: {@code B(b + Σ p_i) + [D(b, c) − D(b, c_0)] + Σ [A(s_i + p_i) − A(s_i)]},
 *       where {@code c_0} is the least measured context (the decode rows' KV reads past it) and
 *       {@code A(T) = max(0, P(T) − B(T))} is what one prompt's own attention adds over short
 *       prompts of as many tokens. The one-prompt curve alone would price a step of sixteen
 *       512-token prompts as sixteen increments where the GEMMs are still bound by the weights'
 *       bytes; on a GPU those rows are bound by the matrix units instead.
 *   <li>A tensor-parallel replica with no table of its own: the single-device time {@code t} becomes
 *       {@code t / (K × efficiency) + 2 × layers × all-reduce time}.
 * </ul>
 */
public final class StepTimeModel {
  private final int[] batches; // measured decode batches, ascending
  private final double[] batchAxis; // the same, as doubles
  private final double[] contexts; // measured decode contexts, ascending
  private final double[][] decode; // [context][batch] µs, non-decreasing along both
  private final TokenCurve prefill; // P: one prompt from position 0
  private final TokenCurve batched; // B: steps of several prompts; null: none measured
  private final boolean padded;
  private final double scale;
  private final double addMicros;
  private final String describe;
  private final double busyCores;

  private StepTimeModel(StepCalibration.LayoutTable t, double scale, double addMicros, String describe) {
    TreeSet<Integer> b = new TreeSet<>();
    TreeSet<Integer> c = new TreeSet<>();
    for (StepCalibration.DecodePoint p : t.decode()) {
      b.add(p.batch());
      c.add(p.context());
    }
    batches = b.stream().mapToInt(Integer::intValue).toArray();
    batchAxis = Arrays.stream(batches).asDoubleStream().toArray();
    contexts = c.stream().mapToDouble(Integer::doubleValue).toArray();
    decode = new double[contexts.length][batches.length];
    for (double[] row : decode) Arrays.fill(row, Double.NaN);
    for (StepCalibration.DecodePoint p : t.decode()) {
      decode[Arrays.binarySearch(contexts, p.context())][Arrays.binarySearch(batches, p.batch())] = p.stepMicros();
    }
    for (int i = 0; i < contexts.length; i++) {
      for (int j = 0; j < batches.length; j++) {
        if (Double.isNaN(decode[i][j])) {
          throw new IllegalArgumentException(t.label() + " " + t.decodePath() + ": the decode points must form a grid, "
              + "batch " + batches[j] + " at context " + (int) contexts[i] + " is missing");
        }
        if (j > 0) decode[i][j] = Math.max(decode[i][j], decode[i][j - 1]);
        if (i > 0) decode[i][j] = Math.max(decode[i][j], decode[i - 1][j]);
      }
    }
    prefill = TokenCurve.of(t.prefill().stream().filter(p -> p.prompts() == 1).toList(),
        tokens -> t.label() + ": prefill of " + tokens + " tokens given twice");
    List<StepCalibration.PrefillPoint> several = t.prefill().stream().filter(p -> p.prompts() > 1).toList();
    batched = several.isEmpty() ? null : TokenCurve.of(several,
        tokens -> t.label() + ": a step of " + tokens + " prompt tokens given twice");
    this.padded = t.paddedToBuckets();
    this.scale = scale;
    this.addMicros = addMicros;
    this.describe = describe;
    this.busyCores = t.busyCores();
  }

  /**
   * The model of {@code tensorParallel}-device replicas on {@code decodePath} (null: the table's only
   * path): that size's table, else the single-device table scaled, else an IllegalArgumentException
   * saying what the calibration has.
   */
  public static StepTimeModel of(StepCalibration cal, int tensorParallel, String decodePath) {
    return of(cal, false, tensorParallel, decodePath);
  }

  /**
   * As {@link #of(StepCalibration, int, String)} for replicas of {@code devices} devices splitting a
   * mixture of experts' experts ({@code expertParallel}: ep=K, whose table must be measured, as an
   * expert-parallel step's time depends on where its tokens' experts live) or heads and columns.
   */
  public static StepTimeModel of(StepCalibration cal, boolean expertParallel, int devices, String decodePath) {
    Optional<StepCalibration.LayoutTable> own = cal.table(expertParallel, devices, decodePath);
    if (own.isPresent()) {
      return new StepTimeModel(own.get(), 1, 0, own.get().label() + " " + own.get().decodePath() + " table");
    }
    if (expertParallel && devices > 1) {
      throw new IllegalArgumentException("the calibration has no ep=" + devices + " table (gpu-agent bench step "
          + "--expert-parallel " + devices + " --calibration-out measures one)");
    }
    int tensorParallel = devices;
    if (tensorParallel > 1) {
      StepCalibration.TensorParallelScaling tp = cal.tensorParallel();
      Optional<StepCalibration.LayoutTable> one = cal.table(1, decodePath);
      if (tp != null && one.isPresent()) {
        return new StepTimeModel(one.get(), 1.0 / (tensorParallel * tp.efficiency()),
            2.0 * tp.layers() * tp.allReduceMicros(), "dp " + one.get().decodePath() + " table scaled to tp="
                + tensorParallel);
      }
      throw new IllegalArgumentException("the calibration has no tp=" + tensorParallel + " table and no "
          + "tensor_parallel scaling to make one");
    }
    throw new IllegalArgumentException("the calibration has no " + (tensorParallel == 1 ? "dp" : "tp=" + tensorParallel)
        + " table for decode path " + decodePath + " (it has " + cal.decodePaths(tensorParallel) + ")");
  }

  /** The cores a step of its table keeps busy (CPU tables), NaN when not measured. */
  public double busyCores() {
    return busyCores;
  }

  /** Which table it reads, e.g. "dp cpu table". */
  public String describe() {
    return describe;
  }

  /** One decode step of {@code batch} sequences at mean context {@code meanContext}, µs. */
  public double decodeMicros(int batch, double meanContext) {
    return scaled(rawDecode(batch, meanContext));
  }

  /** One step that prefills one prompt of {@code tokens} from position 0, µs. */
  public double prefillMicros(double tokens) {
    return scaled(prefill.at(tokens));
  }

  /**
   * One step, µs (the rule in the class comment).
   *
   * @param decodeRows sequences that compute one token
   * @param decodeContext the sum of their contexts (each its token's position + 1)
   * @param chunkStart per prefill chunk, its first position
   * @param chunkTokens per prefill chunk, its tokens
   * @param chunks how many entries of the two arrays are chunks
   */
  public double stepMicros(int decodeRows, long decodeContext, int[] chunkStart, int[] chunkTokens, int chunks) {
    if (batched != null && chunks > 0) {
      long rows = decodeRows;
      double attention = 0;
      for (int i = 0; i < chunks; i++) {
        rows += chunkTokens[i];
        attention += Math.max(0, ownAttention(chunkStart[i] + chunkTokens[i]) - ownAttention(chunkStart[i]));
      }
      double kv = decodeRows == 0 ? 0 : Math.max(0,
          rawDecode(decodeRows, (double) decodeContext / decodeRows) - rawDecode(decodeRows, contexts[0]));
      return scaled(batched.at(rows) + kv + attention);
    }
    double t = decodeRows > 0 ? rawDecode(decodeRows, (double) decodeContext / decodeRows) : prefill.at(0);
    for (int i = 0; i < chunks; i++) {
      t += prefill.at(chunkStart[i] + chunkTokens[i]) - prefill.at(chunkStart[i]);
    }
    return scaled(t);
  }

  private double scaled(double micros) {
    return micros * scale + addMicros;
  }

  private double rawDecode(int batch, double context) {
    double b = padded ? BatchBuckets.bucketOf(batch) : batch;
    if (contexts.length == 1) return onAxis(batchAxis, decode[0], b);
    int i = segment(contexts, context);
    double lo = onAxis(batchAxis, decode[i], b);
    double hi = onAxis(batchAxis, decode[i + 1], b);
    return onSegment(contexts[i], lo, contexts[i + 1], hi, context, i == 0);
  }

  /** A(T): what one prompt of {@code tokens} takes beyond a step of as many tokens over short prompts. */
  private double ownAttention(double tokens) {
    return Math.max(0, prefill.at(tokens) - batched.at(tokens));
  }

  /**
   * Step time against prompt tokens through a table's points (P or B): ascending from 0 tokens, lifted
   * where it falls, its value at 0 from the rule above; one point is proportional to the tokens.
   */
  private record TokenCurve(double[] tokens, double[] micros) {

    static TokenCurve of(List<StepCalibration.PrefillPoint> points, java.util.function.IntFunction<String> twice) {
      List<StepCalibration.PrefillPoint> sorted = points.stream()
          .sorted((x, y) -> Integer.compare(x.tokens(), y.tokens())).toList();
      double[] tokens = new double[sorted.size() + 1];
      double[] micros = new double[sorted.size() + 1];
      for (int i = 0; i < sorted.size(); i++) {
        if (i > 0 && sorted.get(i).tokens() == sorted.get(i - 1).tokens()) {
          throw new IllegalArgumentException(twice.apply(sorted.get(i).tokens()));
        }
        tokens[i + 1] = sorted.get(i).tokens();
        micros[i + 1] = Math.max(sorted.get(i).stepMicros(), i > 0 ? micros[i] : 0);
      }
      micros[0] = sorted.size() == 1 ? 0 : Math.max(0, intercept(tokens[1], micros[1], tokens[2], micros[2]));
      return new TokenCurve(tokens, micros);
    }

    double at(double t) {
      if (tokens.length == 2) return micros[1] * t / tokens[1];
      int i = segment(tokens, t);
      // The first segment starts at 0 tokens, where the value is already at least 0.
      return onSegment(tokens[i], micros[i], tokens[i + 1], micros[i + 1], t, false);
    }
  }

  /** Piecewise linear through (xs, ys); an axis of one point is flat. */
  private static double onAxis(double[] xs, double[] ys, double x) {
    if (xs.length == 1) return ys[0];
    int i = segment(xs, x);
    return onSegment(xs[i], ys[i], xs[i + 1], ys[i + 1], x, i == 0);
  }

  /**
   * On the line through (x0, y0) and (x1, y1); below the first point of an axis ({@code first}),
   * never below the line from 0 at 0 to that point; never below 0.
   */
  private static double onSegment(double x0, double y0, double x1, double y1, double x, boolean first) {
    double y = y0 + (y1 - y0) / (x1 - x0) * (x - x0);
    if (first && x < x0 && intercept(x0, y0, x1, y1) < 0) y = y0 * x / x0;
    return Math.max(0, y);
  }

  /** The segment [i, i + 1] that holds x, or the first or last one beyond the ends. */
  private static int segment(double[] xs, double x) {
    int i = 0;
    while (i < xs.length - 2 && x > xs[i + 1]) i++;
    return i;
  }

  private static double intercept(double x0, double y0, double x1, double y1) {
    return y0 - (y1 - y0) / (x1 - x0) * x0;
  }
}
