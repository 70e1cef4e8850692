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
 * checks the device runs it.
 */
class RopeQkNormEmulationTest {

  private static final double THETA = 1_000_000.0;
  private static final float EPS = 1e-6f;
  private static final int TABLE = 4096;

  /** The kernel's (n, row) qkv after its launch: q and k heads normed and rotated, bf16-rounded. */
  static float[] emulate(float[] qkv, int n, int qHeads, int kvHeads, int d, float[] qNorm, float[] kNorm,
      int[] positions, float[] cosSin) {
    int row = (qHeads + 2 * kvHeads) * d;
    int half = d / 2;
    float[] out = qkv.clone();
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
        invRms[hd] = (float) (1.0 / Math.sqrt(lane[0] / (float) d + EPS));
      }
      int pos = positions[t];
      for (int hd = 0; hd < qHeads + kvHeads; hd++) {
        boolean isK = hd >= qHeads;
        float[] weight = isK ? kNorm : qNorm;
        int base = t * row + hd * d;
        for (int j = 0; j < half; j += 8) {
          for (int i = 0; i < 8; i++) {
            float a = (qkv[base + j + i] * invRms[hd]) * weight[j + i];
            float b = (qkv[base + half + j + i] * invRms[hd]) * weight[half + j + i];
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
    check(5, 4, 2, 32);
    check(3, 32, 4, 128);
  }

  private static void check(int n, int qHeads, int kvHeads, int d) {
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
    int[] positions = new int[n];
    for (int t = 0; t < n; t++) positions[t] = random.nextInt(TABLE);
    float[] got = emulate(qkv, n, qHeads, kvHeads, d, qNorm, kNorm, positions,
        RopeTable.cosSin(TABLE, d, THETA));

    int qw = qHeads * d;
    int kw = kvHeads * d;
    float[] q = new float[n * qw];
    float[] k = new float[n * kw];
    for (int t = 0; t < n; t++) {
      System.arraycopy(qkv, t * row, q, t * qw, qw);
      System.arraycopy(qkv, t * row + qw, k, t * kw, kw);
    }
    RmsNorm.forward(q, qNorm, EPS, n * qHeads, d, q);
    RmsNorm.forward(k, kNorm, EPS, n * kvHeads, d, k);
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
      for (int i = qw + kw; i < row; i++) {
        assertTrue(got[t * row + i] == qkv[t * row + i], "v is neither normed nor rotated");
      }
    }
  }
}
