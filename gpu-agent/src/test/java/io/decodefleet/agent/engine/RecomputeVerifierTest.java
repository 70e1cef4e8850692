package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.reference.Argmax;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RecomputeVerifierTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int V = TINY.vocabSize();
  private static final int[] PROMPT = {3, 141, 59, 265, 358, 979, 323, 846, 264};
  private static final int MAX_TOKENS = 6;

  private static CpuBackend backend;
  /** A sequence decoded through the paged cache (chunked prefill, then decodes) and its per-step logits. */
  private static Sequence decoded;
  private static List<float[]> stepLogits;

  @BeforeAll
  static void decodeOnce() {
    backend = new CpuBackend(8L << 20);
    backend.loadModel(TINY, 2024);
    backend.allocateKvCache(16, 4);
    Scheduler scheduler = new Scheduler(new SchedulerConfig(4, 4, 1000), new KvBlockManager(16, 4));
    ModelRunner runner = new ModelRunner(backend, 4, V);
    decoded = new Sequence(1, PROMPT, MAX_TOKENS);
    scheduler.add(decoded);
    stepLogits = new ArrayList<>();
    while (scheduler.hasWork()) {
      SchedulerOutput out = scheduler.schedule();
      ModelRunner.StepResult r = runner.execute(out);
      if (r.logits().containsKey(1L)) stepLogits.add(r.logits().get(1L));
      scheduler.update(out, r.sampled());
    }
    assertEquals(MAX_TOKENS, decoded.numOutputTokens());
    assertEquals(MAX_TOKENS, stepLogits.size());
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  private static VerifyResult verify(Sequence seq, List<float[]> logits) {
    RecomputeVerifier v = new RecomputeVerifier(1.0, V);
    for (float[] row : logits) v.record(seq.id(), row);
    return v.verify(seq, backend);
  }

  private static Sequence withOutputs(int[] outputs) {
    Sequence s = new Sequence(1, PROMPT, MAX_TOKENS);
    for (int t : outputs) s.appendOutput(t);
    return s;
  }

  private static List<float[]> copy(List<float[]> logits) {
    List<float[]> c = new ArrayList<>();
    for (float[] row : logits) c.add(row.clone());
    return c;
  }

  @Test
  void passesForAnHonestCachedDecode() {
    VerifyResult r = verify(decoded, stepLogits);
    assertTrue(r.checked());
    assertTrue(r.passed(), r.detail());
    assertEquals(MAX_TOKENS, r.stepsChecked());
    assertTrue(r.maxRelError() < RecomputeVerifier.TOLERANCE, "max rel error " + r.maxRelError());
  }

  @Test
  void failsWhenOneRecordedLogitIsPerturbed() {
    List<float[]> bad = copy(stepLogits);
    float[] row = bad.get(3);
    // Perturb a logit that is not the arg-max, so only the logits comparison can catch it.
    int victim = decoded.outputTokens()[3] == 0 ? 1 : 0;
    row[victim] += 1e-2f;
    VerifyResult r = verify(decoded, bad);
    assertTrue(r.checked());
    assertFalse(r.passed(), "a 1e-2 perturbation must fail the check");
    assertEquals(4, r.stepsChecked(), "fails at the perturbed step (index 3)");
    assertTrue(r.maxRelError() > RecomputeVerifier.TOLERANCE, "max rel error " + r.maxRelError());
    assertTrue(r.detail().contains("step 3"), r.detail());
  }

  @Test
  void failsWhenARecordedTokenDiffers() {
    int[] outputs = decoded.outputTokens();
    outputs[2] = (outputs[2] + 1) % V;
    VerifyResult r = verify(withOutputs(outputs), stepLogits);
    assertTrue(r.checked());
    assertFalse(r.passed(), "a wrong token must fail the check");
    assertEquals(3, r.stepsChecked());
    assertTrue(r.detail().contains("step 2"), r.detail());
  }

  @Test
  void checksASampledSequenceAgainstItsOwnDrawFromTheRecompute() {
    SamplingParams sampling = new SamplingParams(0.9f, 0.95f, 40, 99L, new int[0], 0);
    Sequence seq = new Sequence(2, PROMPT, MAX_TOKENS, false, sampling);
    Scheduler scheduler = new Scheduler(new SchedulerConfig(4, 4, 1000), new KvBlockManager(16, 4));
    ModelRunner runner = new ModelRunner(backend, 4, V);
    scheduler.add(seq);
    List<float[]> logits = new ArrayList<>();
    while (scheduler.hasWork()) {
      SchedulerOutput out = scheduler.schedule();
      ModelRunner.StepResult r = runner.execute(out);
      if (r.logits().containsKey(2L)) logits.add(r.logits().get(2L));
      scheduler.update(out, r.sampled());
    }
    int[] outputs = seq.outputTokens();
    int drawnOffArgmax = -1;
    for (int j = 0; j < MAX_TOKENS; j++) {
      drawnOffArgmax = Argmax.argmax(logits.get(j), 0, V) != outputs[j] ? j : drawnOffArgmax;
    }
    assertTrue(drawnOffArgmax >= 0, "temperature 0.9 should draw some token other than the arg-max");
    VerifyResult r = verify(seq, logits);
    assertTrue(r.passed(), r.detail());
    // The arg-max where the draw took another token is what a greedy check would have wanted: wrong here.
    outputs[drawnOffArgmax] = Argmax.argmax(logits.get(drawnOffArgmax), 0, V);
    Sequence greedyThere = new Sequence(2, PROMPT, MAX_TOKENS, false, sampling);
    for (int t : outputs) greedyThere.appendOutput(t);
    VerifyResult wrong = verify(greedyThere, logits);
    assertFalse(wrong.passed(), "the arg-max in place of the seeded draw must fail");
    assertTrue(wrong.detail().contains("step " + drawnOffArgmax), wrong.detail());
  }

  @Test
  void failsWhenAStepWasNotRecorded() {
    VerifyResult r = verify(decoded, stepLogits.subList(0, MAX_TOKENS - 1));
    assertTrue(r.checked());
    assertFalse(r.passed());
  }

  @Test
  void failsOnNaNLogits() {
    List<float[]> bad = copy(stepLogits);
    bad.get(0)[5] = Float.NaN;
    VerifyResult r = verify(decoded, bad);
    assertFalse(r.passed());
  }

  @Test
  void unselectedOrForgottenSequencesAreNotChecked() {
    RecomputeVerifier off = new RecomputeVerifier(0.0, V);
    for (float[] row : stepLogits) off.record(1, row);
    assertSame(VerifyResult.NOT_CHECKED, off.verify(decoded, backend));

    RecomputeVerifier on = new RecomputeVerifier(1.0, V);
    for (float[] row : stepLogits) on.record(1, row);
    on.forget(1);
    assertSame(VerifyResult.NOT_CHECKED, on.verify(decoded, backend));

    // verify consumes the recording.
    for (float[] row : stepLogits) on.record(1, row);
    assertTrue(on.verify(decoded, backend).passed());
    assertSame(VerifyResult.NOT_CHECKED, on.verify(decoded, backend));
  }

  @Test
  void selectionIsADeterministicFractionOfIds() {
    RecomputeVerifier a = new RecomputeVerifier(0.25, V);
    RecomputeVerifier b = new RecomputeVerifier(0.25, V);
    int selected = 0;
    int n = 4000;
    for (long id = 0; id < n; id++) {
      assertEquals(a.selects(id), b.selects(id));
      if (a.selects(id)) selected++;
    }
    assertEquals(0.25 * n, selected, 0.05 * n);
    assertFalse(new RecomputeVerifier(0, V).selects(1));
    assertTrue(new RecomputeVerifier(1, V).selects(1));
  }
}
