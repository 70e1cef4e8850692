package io.decodefleet.agent.protocol;

import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import java.io.NotSerializableException;

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
        .setPrefixCaching(s.prefixCaching().ordinal()).setProfileSteps(s.profileSteps())
        .setLoadFormat(s.loadFormat().ordinal()).setQuantization(s.quantization().ordinal())
        .setKvCacheDtype(s.kvCacheDtype().ordinal()).setMoeRouter(s.moeRouter().label()).build();
  }

  /** @throws NotSerializableException naming the field when a weights enum is one this side does not know */
  public static ModelSpec fromProto(io.decodefleet.protocol.cluster.ModelSpec s) throws NotSerializableException {
    return new ModelSpec(s.getModel(), s.getSeed(), s.getBlockSize(), s.getKvBlocks(), s.getMaxNumSeqs(),
        s.getMaxBatchedTokens(), s.getVerifyFraction(),
        ModelSpec.PrefixCaching.values()[Math.min(2, Math.max(0, s.getPrefixCaching()))],
        Math.max(0, s.getProfileSteps()), wireEnum(ModelSpec.LoadFormat.values(), s.getLoadFormat(), "load_format"),
        wireEnum(ModelSpec.Quantization.values(), s.getQuantization(), "quantization"),
        wireEnum(ModelSpec.KvCacheDtype.values(), s.getKvCacheDtype(), "kv_cache_dtype"), moeRouter(s.getMoeRouter()));
  }

  private static MoeRouterPolicy moeRouter(String label) throws NotSerializableException {
    try {
      return MoeRouterPolicy.parse(label);
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("ModelSpec.moe_router " + e.getMessage());
    }
  }

  /** The enum value a wire field carries; one this side does not know is refused, not guessed. */
  private static <E extends Enum<E>> E wireEnum(E[] values, int ordinal, String field)
      throws NotSerializableException {
    if (ordinal < 0 || ordinal >= values.length) {
      throw new NotSerializableException("ModelSpec." + field + " " + ordinal + " is not one of "
          + java.util.Arrays.toString(values));
    }
    return values[ordinal];
  }
}
