package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.Rope;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * rope_kv.cu's q/k norms emulated on the host as the kernel computes them: per head, each lane's
 * float32 sum of squares over its 16-byte vectors (lane, lane + 32, ...), the warp's butterfly, the
 * inverse RMS of the mean plus eps; then, per thread-step of eight (lo, hi) pairs, lo normed by the
 * weight's elements j.., hi by half + j.., k heads by their own inverse RMS after the q heads'; the
 * rotation from the float32 table; one rounding to bf16. It must agree with the CPU backend's
 * {@link RmsNorm#forward} per head followed by {@link Rope#apply} to bf16 precision, on a fused qkv
 * row with GQA and a head_dim of 32 (one thread-step a head) and 128 (eight); the self-test then
 * checks the device runs it. With attention biases (Qwen2) each unpacked vector gets its bias added
 * in float32 first, before the sums of squares and the rotation, and v is written back biased and
 * rounded once: as the CPU backend's bias add after the projection, then its norms and rotation.
 */
class RopeQkNormEmulationTest {

  private static final double THETA = 1_000_000.0;
  private static final float EPS = 1e-6f;
  private static final int TABLE = 4096;

  /**
   * The kernel's (n, row) qkv after its launch: q and k heads (biased,) normed (when qNorm is given)
   * and rotated, bf16-rounded; v biased and rounded when {@code bias} (row wide: q's, k's, then v's) is
   * given.
   */
  static float[] emulate(float[] qkv, int n, int qHeads, int kvHeads, int d, float[] qNorm, float[] kNorm,
      float[] bias, int[] positions, float[] cosSin) {
    int row = (qHeads + 2 * kvHeads) * d;
    int half = d / 2;
    float[] in = qkv.clone(); // each element as the kernel's float32 unpack (plus bias) sees it
    float[] out = qkv.clone();
    for (int t = 0; t < n; t++) {
      for (int i = 0; bias != null && i < row; i++) {
        in[t * row + i] = qkv[t * row + i] + bias[i];
        if (i >= (qHeads + kvHeads) * d) out[t * row + i] = Bf16.round(in[t * row + i]);
      }
    }
    qkv = in;
    for (int t = 0; t < n; t++) {
      float[] invRms = new float[qHeads + kvHeads];
      for (int hd = 0; hd < qHeads + kvHeads; hd++) {
        int base = t * row + hd * d; // k heads follow the q heads in the fused row
        float[] lane = new float[32];
        for (int l = 0; l < 32; l++) {
          for (int v = l; v < d / 8; v += 32) {
            for (int e = 0; e < 8; e++) {
              float x = qkv[base + v * 8 + e];
              lane[l] = Math.fma(x, x, lane[l]);
            }
          }
        }
        for (int o = 16; o > 0; o >>= 1) {
          float[] next = new float[32];
          for (int l = 0; l < 32; l++) next[l] = lane[l] + lane[l ^ o];
          lane = next;
        }
        invRms[hd] = qNorm == null ? 1f : (float) (1.0 / Math.sqrt(lane[0] / (float) d + EPS));
      }
      int pos = positions[t];
      for (int hd = 0; hd < qHeads + kvHeads; hd++) {
        boolean isK = hd >= qHeads;
        float[] weight = isK ? kNorm : qNorm;
        int base = t * row + hd * d;
        for (int j = 0; j < half; j += 8) {
          for (int i = 0; i < 8; i++) {
            float a = weight == null ? qkv[base + j + i] : (qkv[base + j + i] * invRms[hd]) * weight[j + i];
            float b = weight == null ? qkv[base + half + j + i]
                : (qkv[base + half + j + i] * invRms[hd]) * weight[half + j + i];
            float c = cosSin[pos * d + j + i];
            float s = cosSin[pos * d + half + j + i];
            out[base + j + i] = Bf16.round(a * c - b * s);
            out[base + half + j + i] = Bf16.round(a * s + b * c);
          }
        }
      }
    }
    return out;
  }

  @Test
  void theKernelsNormThenRotationAgreesWithTheCpuBackendsToBf16Precision() {
    check(5, 4, 2, 32, true, false);
    check(3, 32, 4, 128, true, false);
  }

  @Test
  void theKernelsBiasesBeforeNormAndRotationAgreeWithTheCpuBackendsToBf16Precision() {
    check(3, 28, 4, 128, false, true); // Qwen2-7B's heads
    check(5, 4, 2, 32, true, true);
  }

  private static void check(int n, int qHeads, int kvHeads, int d, boolean norms, boolean biases) {
    Random random = new Random(31L * d + qHeads);
    int row = (qHeads + 2 * kvHeads) * d;
    float[] qkv = new float[n * row];
    for (int i = 0; i < qkv.length; i++) qkv[i] = Bf16.round((float) (random.nextGaussian() * 3.0));
    float[] qNorm = new float[d];
    float[] kNorm = new float[d];
    for (int i = 0; i < d; i++) {
      qNorm[i] = Bf16.round((float) (1.0 + 0.3 * random.nextGaussian()));
      kNorm[i] = Bf16.round((float) (1.0 + 0.3 * random.nextGaussian()));
    }
    // Qwen2's biases are large beside the projections (its k biases run to tens).
    float[] bias = new float[row];
    for (int i = 0; i < row; i++) bias[i] = Bf16.round((float) (random.nextGaussian() * 8.0));
    int[] positions = new int[n];
    for (int t = 0; t < n; t++) positions[t] = random.nextInt(TABLE);
    float[] got = emulate(qkv, n, qHeads, kvHeads, d, norms ? qNorm : null, norms ? kNorm : null,
        biases ? bias : null, positions, RopeTable.cosSin(TABLE, d, THETA));

    int qw = qHeads * d;
    int kw = kvHeads * d;
    float[] q = new float[n * qw];
    float[] k = new float[n * kw];
    float[] v = new float[n * kw];
    for (int t = 0; t < n; t++) {
      System.arraycopy(qkv, t * row, q, t * qw, qw);
      System.arraycopy(qkv, t * row + qw, k, t * kw, kw);
      System.arraycopy(qkv, t * row + qw + kw, v, t * kw, kw);
      for (int i = 0; biases && i < qw; i++) q[t * qw + i] += bias[i];
      for (int i = 0; biases && i < kw; i++) {
        k[t * kw + i] += bias[qw + i];
        v[t * kw + i] += bias[qw + kw + i];
      }
    }
    if (norms) {
      RmsNorm.forward(q, qNorm, EPS, n * qHeads, d, q);
      RmsNorm.forward(k, kNorm, EPS, n * kvHeads, d, k);
    }
    Rope.apply(q, n, qHeads, d, positions, THETA);
    Rope.apply(k, n, kvHeads, d, positions, THETA);
    for (int t = 0; t < n; t++) {
      for (int hd = 0; hd < qHeads + kvHeads; hd++) {
        float[] want = hd < qHeads ? q : k;
        int from = hd < qHeads ? t * qw + hd * d : t * kw + (hd - qHeads) * d;
        double err = 0;
        double norm = 0;
        for (int i = 0; i < d; i++) {
          double diff = got[t * row + hd * d + i] - want[from + i];
          err += diff * diff;
          norm += (double) want[from + i] * want[from + i];
        }
        double rel = Math.sqrt(err / norm);
        // One bf16 rounding of each element: about 2^-9 relative, in L2 well under it.
        assertTrue(rel < 4e-3, "token " + t + " head " + hd + ": relative error " + rel);
      }
      for (int i = 0; i < kw; i++) {
        assertTrue(got[t * row + qw + kw + i] == Bf16.round(v[t * kw + i]), "v is neither normed nor rotated,"
            + " only biased and rounded once");
      }
    }
  }
}
