package io.decodefleet.agent.protocol;

import io.decodefleet.agent.engine.sampling.SamplingParams;

/** The protobuf mapping of {@link SamplingParams}: an absent message is greedy with no stop tokens. */
public final class SamplingWire {

  private SamplingWire() {}

  public static io.decodefleet.protocol.cluster.SamplingParams toProto(SamplingParams s) {
    var b = io.decodefleet.protocol.cluster.SamplingParams.newBuilder().setTemperature(s.temperature())
        .setTopP(s.topP()).setTopK(s.topK()).setSeed(s.seed()).setMinTokens(s.minTokens());
    for (int t : s.stopTokenIds()) b.addStopTokenIds(t);
    return b.build();
  }

  public static SamplingParams fromProto(boolean present, io.decodefleet.protocol.cluster.SamplingParams p) {
    if (!present) return SamplingParams.GREEDY;
    return new SamplingParams(p.getTemperature(), p.getTopP(), p.getTopK(), p.getSeed(),
        p.getStopTokenIdsList().stream().mapToInt(Integer::intValue).toArray(), p.getMinTokens());
  }
}
