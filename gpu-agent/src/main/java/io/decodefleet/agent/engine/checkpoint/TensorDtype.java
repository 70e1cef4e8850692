package io.decodefleet.agent.engine.checkpoint;

import java.util.Optional;

/** The element types a safetensors header may name, with their sizes; few of them hold weights here. */
public enum TensorDtype {
  BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4), F64(8),
  I64(8), U64(8);

  private final int bytes;

  TensorDtype(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }

  /** Whether a weight, a norm or a scale may be stored in it: bf16, fp16 or fp32. */
  public boolean isFloat() {
    return this == BF16 || this == F16 || this == F32;
  }

  /** The dtype a header spells {@code name}, if it is one of safetensors'. */
  public static Optional<TensorDtype> parse(String name) {
    for (TensorDtype d : values()) {
      if (d.name().equals(name)) return Optional.of(d);
    }
    return Optional.empty();
  }
}
