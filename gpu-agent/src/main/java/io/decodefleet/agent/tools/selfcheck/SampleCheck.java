package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.SampleParams;
import io.decodefleet.kernels.reference.TokenSampling;
import java.util.Arrays;
import java.util.Random;

/**
 * SAMPLE against {@link TokenSampling} on random bf16 logits, each row with its own params from a
 * mix: greedy by temperature 0 and by top-k 1, temperature alone, with top-k, with top-p, with both,
 * and top-k at the vocabulary (no cut) with a small top-p. With more than two rows, row 0 has a
 * tie at its top, row 1 a NaN and row 2 nothing but NaN (-1). Tokens must match. A row may differ
 * only where the reference's two best scores are a float near tie (within {@link #NEAR_TIE} of the
 * larger magnitude, at least 1): the kernel's float log or exp may order them the other way. Those
 * rows are counted apart, in the shape column.
 */
final class SampleCheck {

  static final double NEAR_TIE = 1e-4;
  private static final int KINDS = 7;

  private SampleCheck() {}

  /** Each row's params, as the kernel's (rows) arrays take them. */
  record RowParams(float[] temperature, float[] topP, int[] topK, long[] seed, int[] position) {

    int[] seedWords(int shift) {
      return Arrays.stream(seed).mapToInt(s -> (int) (s >>> shift)).toArray();
    }
  }

  /** How the kernel's tokens compare with the reference's draws. */
  record Outcome(int same, int nearTies, int mismatches, String firstMismatch) {}

  /** Params for {@code rows} rows, every kind once in each run of {@value #KINDS} rows. */
  static RowParams mixedParams(Random r, int rows, int vocab) {
    float[] t = new float[rows];
    float[] p = new float[rows];
    int[] k = new int[rows];
    long[] seed = new long[rows];
    int[] position = new int[rows];
    int offset = r.nextInt(KINDS);
    for (int i = 0; i < rows; i++) {
      int kind = (i + offset) % KINDS;
      t[i] = kind == 0 ? 0f : 0.3f + 1.4f * r.nextFloat();
      p[i] = kind == 4 || kind == 5 ? 0.5f + 0.49f * r.nextFloat() : kind == 6 ? 0.2f : 1f;
      k[i] = switch (kind) {
        case 1 -> 1;
        case 3, 5 -> 2 + r.nextInt(Math.min(200, vocab - 2));
        case 6 -> vocab;
        default -> 0;
      };
      seed[i] = r.nextLong();
      position[i] = r.nextInt(1 << 24);
    }
    return new RowParams(t, p, k, seed, position);
  }

  /** The reference's draws for (rows, vocab) logits. */
  static TokenSampling.Draw[] expected(float[] logits, int rows, int vocab, RowParams q) {
    TokenSampling.Draw[] out = new TokenSampling.Draw[rows];
    for (int r = 0; r < rows; r++) {
      out[r] = TokenSampling.draw(logits, r * vocab, vocab, q.temperature()[r], q.topP()[r], q.topK()[r],
          q.seed()[r], q.position()[r]);
    }
    return out;
  }

  static Outcome compare(int[] got, TokenSampling.Draw[] want) {
    int same = 0;
    int ties = 0;
    int wrong = 0;
    String first = "";
    for (int r = 0; r < want.length; r++) {
      TokenSampling.Draw w = want[r];
      if (got[r] == w.token()) {
        same++;
      } else if (w.token() >= 0 && got[r] >= 0
          && w.best() - w.runnerUp() <= NEAR_TIE * Math.max(1, Math.max(Math.abs(w.best()), Math.abs(w.runnerUp())))) {
        ties++;
      } else {
        wrong++;
        first = first.isEmpty() ? "row " + r + ": token " + got[r] + ", reference " + w.token() : first;
      }
    }
    return new Outcome(same, ties, wrong, first);
  }

  static CheckResult run(DeviceHarness h, int rows, int vocab) {
    float[] logits = h.randomBf16(rows * vocab, 3.0);
    if (rows > 2) {
      int top = h.random().nextInt(vocab - 1);
      logits[top] = 20f;
      logits[top + 1] = 20f; // a tie at the top of row 0
      logits[vocab + h.random().nextInt(vocab)] = Float.NaN;
      Arrays.fill(logits, 2 * vocab, 3 * vocab, Float.NaN); // no kept logit: -1
    }
    RowParams q = mixedParams(h.random(), rows, vocab);
    TokenSampling.Draw[] want = expected(logits, rows, vocab, q);
    DeviceBuffer dLogits = h.bf16(logits);
    DeviceBuffer out = h.poisonedInts(rows);
    SampleParams p = new SampleParams(out.address(), dLogits.address(), h.f32(q.temperature()).address(),
        h.f32(q.topP()).address(), h.ints(q.topK()).address(), h.ints(q.seedWords(0)).address(),
        h.ints(q.seedWords(32)).address(), h.ints(q.position()).address(), rows, vocab, vocab);
    Runnable launch = () -> h.launch(Kernel.SAMPLE, p.launch(), p);
    launch.run();
    Outcome o = compare(h.readInts(out, rows), want);
    double us = h.medianUs(launch);
    String shape = "rows=" + rows + " vocab=" + vocab + (o.nearTies() > 0 ? ", " + o.nearTies() + " float ties" : "");
    CheckResult r = h.result("sample", shape, o.mismatches() == 0 ? 0 : Double.NaN, Compare.EXACT, us,
        2.0 * rows * vocab + 28.0 * rows, 0);
    return o.mismatches() == 0 ? r
        : new CheckResult(r.kernel(), r.shape(), r.relError(), r.tolerance(), o.mismatches() + " of " + rows
            + " tokens differ (" + o.firstMismatch() + ")", r.medianUs(), r.bytes(), r.flops(), r.floorUs());
  }
}
