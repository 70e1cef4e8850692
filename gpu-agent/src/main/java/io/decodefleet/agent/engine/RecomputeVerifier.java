package io.decodefleet.agent.engine;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.reference.TokenSampling;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the KV-cached incremental decode against a full recompute of the sequence without any
 * cache: for a deterministic sample of sequences it keeps the logits that produced each token, and
 * when the sequence finishes it reruns the whole sequence densely and compares, step by step, the
 * logits (relative ∞-norm error) and the token: the one the sequence's sampling params pick from the
 * recomputed logits (its arg-max when greedy; else its seeded draw, which depends only on the logits,
 * the seed and the position).
 */
public final class RecomputeVerifier {
  /** Relative tolerance between cached and recomputed logits on the CPU (float32, different summation order). */
  public static final double TOLERANCE = 1e-4;

  private final double fraction;
  private final int vocabSize;
  private final Sampler sampler;
  private final Map<Long, List<float[]>> recorded = new HashMap<>();

  public RecomputeVerifier(double fraction, int vocabSize) {
    this.fraction = fraction;
    this.vocabSize = vocabSize;
    this.sampler = new Sampler(vocabSize);
  }

  /** Whether this sequence is in the sample: a hash of its id, so every run picks the same ones. */
  public boolean selects(long sequenceId) {
    if (fraction <= 0) return false;
    if (fraction >= 1) return true;
    long h = DummyWeights.mix(sequenceId * 0x9e3779b97f4a7c15L);
    return (h >>> 11) * 0x1.0p-53 < fraction;
  }

  /** Remembers the logits that produced the sequence's next token, (vocab) float32. */
  public void record(long sequenceId, float[] logits) {
    if (selects(sequenceId)) recorded.computeIfAbsent(sequenceId, id -> new ArrayList<>()).add(logits);
  }

  public void forget(long sequenceId) {
    recorded.remove(sequenceId);
  }

  /** Recomputes a finished sequence without cache and compares every recorded step. */
  public VerifyResult verify(Sequence seq, Backend backend) {
    List<float[]> steps = recorded.remove(seq.id());
    if (steps == null) return VerifyResult.NOT_CHECKED;
    double tolerance = backend.verifyTolerance();
    int[] all = seq.allTokens();
    int[] output = seq.outputTokens();
    // Outputs sampled by another agent (a hand-off) have no logits here: check the rest.
    int first = seq.adoptedOutputs();
    if (steps.size() != output.length - first) {
      return new VerifyResult(true, false, Double.NaN, 0, "recorded " + steps.size() + " steps for "
          + (output.length - first) + " output tokens sampled here", tolerance);
    }
    // Every token but the last sampled one was fed to the model; position p's logits predict token p+1.
    int[] fed = java.util.Arrays.copyOf(all, all.length - 1);
    float[] dense = backend.forwardWithoutCache(fed); // (fed.length, vocab)
    int promptLen = seq.promptLength();
    double worst = 0;
    for (int j = first; j < output.length; j++) {
      int row = promptLen - 1 + j;
      float[] cached = steps.get(j - first);
      double maxDiff = 0;
      double maxRef = 0;
      for (int v = 0; v < vocabSize; v++) {
        float ref = dense[row * vocabSize + v];
        maxDiff = Math.max(maxDiff, Math.abs(cached[v] - ref));
        maxRef = Math.max(maxRef, Math.abs(ref));
        if (Float.isNaN(cached[v]) || Float.isNaN(ref)) maxDiff = Double.POSITIVE_INFINITY;
      }
      double rel = maxDiff / Math.max(maxRef, Float.MIN_NORMAL);
      worst = Math.max(worst, rel);
      SamplingParams p = seq.sampling();
      int denseToken = sampler.sample(dense, row, p, row + 1);
      if (denseToken != output[j]) {
        // A near tie: the cached token falls short of the recompute's choice by less than the
        // logits' tolerance (in units of z = l / T for a draw).
        double gap = TokenSampling.shortfall(dense, row * vocabSize, vocabSize, p.temperature(), p.topP(), p.topK(),
            p.seed(), row + 1, output[j]);
        double scale = p.greedy() ? 1 : 1 / p.temperature();
        if (!(gap <= tolerance * Math.max(maxRef, Float.MIN_NORMAL) * scale)) {
          return new VerifyResult(true, false, worst, j + 1,
              "step " + j + ": cached decode chose token " + output[j] + ", recompute chose " + denseToken,
              tolerance);
        }
      }
      if (!(rel <= tolerance)) {
        return new VerifyResult(true, false, worst, j + 1,
            "step " + j + ": logits differ by " + rel + " relative (tolerance " + tolerance + ")", tolerance);
      }
    }
    return new VerifyResult(true, true, worst, output.length - first, "", tolerance);
  }
}
