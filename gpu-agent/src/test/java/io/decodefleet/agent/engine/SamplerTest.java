package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.reference.TokenSampling;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

  @Test
  void greedyRowsTakeTheArgmaxAndOthersDrawByTheirParamsFromTheirOwnRow() {
    int vocab = 301;
    float[] logits = new float[3 * vocab]; // (3, vocab)
    Random r = new Random(4);
    for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
    logits[2 * vocab + 17] = 9f;
    Sampler sampler = new Sampler(vocab);
    SamplingParams params = new SamplingParams(0.9f, 0.95f, 50, 123L, new int[0], 0);
    for (int position = 0; position < 40; position++) {
      assertEquals(17, sampler.sample(logits, 2, SamplingParams.GREEDY, position));
      assertEquals(TokenSampling.sample(logits, vocab, vocab, 0.9f, 0.95f, 50, 123L, position),
          sampler.sample(logits, 1, params, position), "position " + position);
    }
  }
}
