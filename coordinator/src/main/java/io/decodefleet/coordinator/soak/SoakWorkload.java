package io.decodefleet.coordinator.soak;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.coordinator.soak.SoakRequest.Protocol;
import io.decodefleet.coordinator.soak.SoakRequest.RequestShape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The soak's requests, all from its seed: a pool of {@link #SHAPES} prompts (token ids) and output
 * lengths, and a stream of requests that each pick a shape and an API. A small pool lets the
 * reference run (every shape once, before any fault) give the expected tokens of every request.
 * Requests are drawn by one thread in the order they are sent, so a seed gives the same sequence.
 */
final class SoakWorkload {
  static final int SHAPES = 32;
  static final int MIN_PROMPT = 16;
  static final int MAX_PROMPT = 160;
  static final int MIN_OUTPUT = 16;
  static final int MAX_OUTPUT = 64;

  private final List<RequestShape> shapes;
  private final SplittableRandom draws;
  private long next;

  SoakWorkload(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int vocab = ModelConfig.preset(SoakSettings.MODEL).vocabSize();
    List<RequestShape> pool = new ArrayList<>();
    for (int i = 0; i < SHAPES; i++) {
      int[] prompt = new int[random.nextInt(MIN_PROMPT, MAX_PROMPT + 1)];
      for (int t = 0; t < prompt.length; t++) prompt[t] = random.nextInt(vocab);
      pool.add(new RequestShape(i, prompt, random.nextInt(MIN_OUTPUT, MAX_OUTPUT + 1)));
    }
    this.shapes = List.copyOf(pool);
    this.draws = random.split();
  }

  List<RequestShape> shapes() {
    return shapes;
  }

  /** The next request: a shape of the pool, over gRPC or HTTP, each with probability 1/2. */
  SoakRequest next() {
    RequestShape shape = shapes.get(draws.nextInt(shapes.size()));
    return new SoakRequest(next++, shape, draws.nextBoolean() ? Protocol.GRPC : Protocol.HTTP);
  }
}
