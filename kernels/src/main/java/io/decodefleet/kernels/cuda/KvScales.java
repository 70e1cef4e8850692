package io.decodefleet.kernels.cuda;

/** The scales of an FP8 KV cache layer: an element is {@code e4m3(code) * scale}, K and V apart. */
final class KvScales {

  private KvScales() {}

  static void check(float kScale, float vScale) {
    if (!(kScale > 0) || !Float.isFinite(kScale) || !(vScale > 0) || !Float.isFinite(vScale)) {
      throw new IllegalArgumentException("kScale and vScale must be finite and > 0 but are " + kScale + " and "
          + vScale);
    }
  }
}
