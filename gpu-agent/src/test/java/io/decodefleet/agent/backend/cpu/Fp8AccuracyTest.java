package io.decodefleet.agent.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.CheckpointExport;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.HostWeights;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.Quantization;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FP8 against BF16 on the same weights, on the CPU reference: the preset tiny's dummy weights as a
 * bf16 checkpoint (the baseline), the same weights as an FP8 checkpoint (projections in e4m3 with a
 * scale per output channel), the bf16 checkpoint quantized at load ({@code --quantization fp8}, a
 * scale per tensor), and each with an FP8 KV cache. Every prompt position's logits (teacher-forced,
 * through the paged cache) are compared with the baseline's: the largest relative L2 error of a row,
 * and how often the arg-max agrees. The figures print as a table (docs/fp8.md quotes them).
 */
class Fp8AccuracyTest {
  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int PROMPTS = 8;
  private static final int LENGTH = 64;
  /**
   * Largest relative L2 error of any logits row against bf16 that a variant with FP8 weights (with
   * or without an FP8 KV cache) may show, and one with an FP8 KV cache alone.
   */
  private static final double WEIGHTS_TOLERANCE = 0.2;
  private static final double KV_TOLERANCE = 0.1;
  /** Least share of positions whose arg-max agrees with bf16's. */
  private static final double AGREEMENT = 0.80;

  @TempDir
  static Path tmp;
  private static Path bf16;
  private static Path fp8;
  private static int[][] prompts;

  @BeforeAll
  static void checkpoints() throws IOException {
    bf16 = tmp.resolve("tiny-bf16");
    fp8 = tmp.resolve("tiny-fp8");
    CheckpointExport.write(new HostWeights(ModelLoad.dummy(TINY, 0)), CheckpointExport.Dtype.BFLOAT16, 1, bf16);
    CheckpointExport.write(new HostWeights(ModelLoad.dummy(TINY, 0)), CheckpointExport.Dtype.FP8, 1, fp8);
    Random random = new Random(2026_12_05L);
    prompts = new int[PROMPTS][LENGTH];
    for (int[] p : prompts) for (int i = 0; i < LENGTH; i++) p[i] = random.nextInt(TINY.vocabSize());
  }

  private static ModelLoad load(Path dir, Quantization quant, KvCacheDtype kv) {
    return ModelLoad.of(new ModelSpec(dir.toString(), 0, 16, 0, 0, 0, 0.0).withWeights(ModelSpec.LoadFormat.SAFETENSORS,
        quant, kv));
  }

  /** (PROMPTS * LENGTH, vocab) logits: each prompt prefilled whole through the paged cache. */
  private static float[][] logits(ModelLoad load) {
    float[][] rows = new float[PROMPTS * LENGTH][];
    int blockSize = 16;
    int blocks = LENGTH / blockSize;
    try (CpuBackend b = new CpuBackend(64L << 20)) {
      b.loadModel(load);
      b.allocateKvCache(blocks, blockSize);
      int[] table = new int[blocks];
      for (int i = 0; i < blocks; i++) table[i] = blocks - 1 - i; // blocks out of order, as a pool hands them out
      for (int p = 0; p < PROMPTS; p++) {
        int[] positions = new int[LENGTH];
        int[] slots = new int[LENGTH];
        int[][] tables = new int[LENGTH][];
        int[] ctx = new int[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
          positions[i] = i;
          slots[i] = table[i / blockSize] * blockSize + i % blockSize;
          tables[i] = table;
          ctx[i] = i + 1;
        }
        float[] out = b.forward(new ForwardBatch(prompts[p], positions, slots, tables, ctx, positions.clone()));
        int v = TINY.vocabSize();
        for (int i = 0; i < LENGTH; i++) rows[p * LENGTH + i] = java.util.Arrays.copyOfRange(out, i * v, (i + 1) * v);
      }
    }
    return rows;
  }

  private record Comparison(String name, double maxRelL2, double meanRelL2, double agreement) {}

  private static Comparison compare(String name, float[][] base, float[][] got) {
    double max = 0;
    double sum = 0;
    int agree = 0;
    for (int r = 0; r < base.length; r++) {
      double e = CheckpointLogitsTest.relativeL2(base[r], got[r]);
      max = Math.max(max, e);
      sum += e;
      if (argmax(base[r]) == argmax(got[r])) agree++;
    }
    return new Comparison(name, max, sum / base.length, (double) agree / base.length);
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }

  private static Comparison[] concat(Comparison first, Comparison[] rest) {
    Comparison[] all = new Comparison[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  @Test
  void fp8WeightsAndKvCacheStayWithinTheStatedToleranceOfBf16() {
    float[][] base = logits(load(bf16, Quantization.NONE, KvCacheDtype.AUTO));
    // For scale: how far bf16 itself is from the float32 weights it rounds.
    Comparison float32 = compare("float32 weights (bf16's own rounding)", base, logits(ModelLoad.dummy(TINY, 0)));
    Comparison[] rows = {
        compare("fp8 checkpoint (per-channel scales)", base, logits(load(fp8, Quantization.NONE, KvCacheDtype.AUTO))),
        compare("--quantization fp8 (per-tensor scales)", base,
            logits(load(bf16, Quantization.FP8, KvCacheDtype.AUTO))),
        compare("--quantization fp8-dynamic (activations too)", base,
            logits(load(bf16, Quantization.FP8_DYNAMIC, KvCacheDtype.AUTO))),
        compare("--kv-cache-dtype fp8 (bf16 weights)", base, logits(load(bf16, Quantization.NONE, KvCacheDtype.FP8))),
        compare("fp8 checkpoint + fp8 KV cache", base, logits(load(fp8, Quantization.NONE, KvCacheDtype.FP8))),
    };
    System.out.printf(Locale.ROOT, "FP8 against BF16, tiny (seed 0), %d prompts x %d positions:%n", PROMPTS, LENGTH);
    System.out.printf(Locale.ROOT, "%-42s %12s %12s %10s%n", "variant", "max rel L2", "mean rel L2", "argmax =");
    for (Comparison c : concat(float32, rows)) {
      System.out.printf(Locale.ROOT, "%-42s %12.4f %12.4f %9.1f%%%n", c.name(), c.maxRelL2(), c.meanRelL2(),
          100 * c.agreement());
    }
    assertTrue(float32.maxRelL2() < 3e-2, "bf16 against float32: " + float32.maxRelL2());
    for (Comparison c : rows) {
      double tolerance = c.name().startsWith("--kv-cache-dtype") ? KV_TOLERANCE : WEIGHTS_TOLERANCE;
      assertTrue(c.maxRelL2() < tolerance, c.name() + ": max relative L2 " + c.maxRelL2() + " >= " + tolerance);
      assertTrue(c.agreement() >= AGREEMENT, c.name() + ": arg-max agrees at " + c.agreement());
      assertTrue(c.maxRelL2() > 0, c.name() + ": no difference at all, so FP8 was not applied");
    }
  }
}
