package io.decodefleet.agent.cli;

import io.decodefleet.agent.engine.ModelSpec.KvCacheDtype;
import io.decodefleet.agent.engine.ModelSpec.Quantization;

/**
 * The FP8 options of the GPU tools ({@code parity}, {@code bench step}): {@code --quantization
 * none|fp8|fp8-dynamic} and {@code --kv-cache-dtype auto|fp8}, spelled as the coordinator's flags are.
 */
record Fp8Options(Quantization quantization, KvCacheDtype kvCacheDtype) {

  /** Parses both values; a bad one is refused with a line naming its flag. */
  static Fp8Options parse(String quantization, String kvCacheDtype) {
    Quantization q = switch (quantization) {
      case "none" -> Quantization.NONE;
      case "fp8" -> Quantization.FP8;
      case "fp8-dynamic" -> Quantization.FP8_DYNAMIC;
      default -> throw new IllegalArgumentException("--quantization must be none, fp8 or fp8-dynamic, got '"
          + quantization + "'");
    };
    KvCacheDtype kv = switch (kvCacheDtype) {
      case "auto" -> KvCacheDtype.AUTO;
      case "fp8" -> KvCacheDtype.FP8;
      default -> throw new IllegalArgumentException("--kv-cache-dtype must be auto or fp8, got '" + kvCacheDtype + "'");
    };
    return new Fp8Options(q, kv);
  }
}
