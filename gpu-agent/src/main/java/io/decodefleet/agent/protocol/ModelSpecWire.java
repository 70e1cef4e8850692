package io.decodefleet.agent.protocol;

import io.decodefleet.agent.engine.ModelSpec;

/**
 * The protobuf mapping of {@link ModelSpec}, for every message that carries one (LoadModel, and the
 * coordinator's own messages between its nodes).
 */
public final class ModelSpecWire {

  private ModelSpecWire() {}

  public static io.decodefleet.protocol.cluster.ModelSpec toProto(ModelSpec s) {
    return io.decodefleet.protocol.cluster.ModelSpec.newBuilder().setModel(s.model()).setSeed(s.seed())
        .setBlockSize(s.blockSize()).setKvBlocks(s.kvBlocks()).setMaxNumSeqs(s.maxNumSeqs())
        .setMaxBatchedTokens(s.maxBatchedTokens()).setVerifyFraction(s.verifyFraction())
        .setPrefixCaching(s.prefixCaching().ordinal()).setProfileSteps(s.profileSteps()).build();
  }

  public static ModelSpec fromProto(io.decodefleet.protocol.cluster.ModelSpec s) {
    return new ModelSpec(s.getModel(), s.getSeed(), s.getBlockSize(), s.getKvBlocks(), s.getMaxNumSeqs(),
        s.getMaxBatchedTokens(), s.getVerifyFraction(),
        ModelSpec.PrefixCaching.values()[Math.min(2, Math.max(0, s.getPrefixCaching()))],
        Math.max(0, s.getProfileSteps()));
  }
}
