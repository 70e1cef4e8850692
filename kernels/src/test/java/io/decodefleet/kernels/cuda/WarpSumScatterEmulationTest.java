package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * common.cuh's {@code warp_sum_scatter32} emulated lane by lane: at offsets 16, 8, 4, 2, 1 a lane keeps
 * the half of its remaining values whose index has that bit as its own lane has it and adds the
 * partner's copy ({@code shfl_xor}) of that half. Lane L must end with value L summed over the 32 lanes,
 * the mapping the MoE expert GEMMs' stores rely on (lane r * 8 + t holds sum (r, t)).
 */
class WarpSumScatterEmulationTest {

  static float[] emulate(float[][] v) {
    float[][] cur = new float[32][];
    for (int lane = 0; lane < 32; lane++) cur[lane] = v[lane].clone();
    for (int o = 16; o > 0; o >>= 1) {
      float[][] next = new float[32][];
      for (int lane = 0; lane < 32; lane++) {
        boolean upper = (lane & o) != 0;
        int partner = lane ^ o;
        boolean partnerUpper = (partner & o) != 0;
        next[lane] = cur[lane].clone();
        for (int i = 0; i < o; i++) {
          float send = partnerUpper ? cur[partner][i] : cur[partner][i + o]; // what the partner sends
          float keep = upper ? cur[lane][i + o] : cur[lane][i];
          next[lane][i] = keep + send;
        }
      }
      cur = next;
    }
    float[] out = new float[32];
    for (int lane = 0; lane < 32; lane++) out[lane] = cur[lane][0];
    return out;
  }

  @Test
  void laneLEndsWithValueLSummedOverTheWarp() {
    Random r = new Random(3);
    float[][] v = new float[32][32];
    // Small integers: every order of summation gives the same exact float.
    for (int lane = 0; lane < 32; lane++) {
      for (int j = 0; j < 32; j++) v[lane][j] = r.nextInt(1000) - 500;
    }
    float[] got = emulate(v);
    for (int j = 0; j < 32; j++) {
      float want = 0;
      for (int lane = 0; lane < 32; lane++) want += v[lane][j];
      assertEquals(want, got[j], "value " + j);
    }
  }
}
