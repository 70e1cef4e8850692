package io.decodefleet.agent.backend.cuda.driver;

/**
 * What the driver reports about one GPU.
 *
 * @param index the CUDA device ordinal
 * @param smCount streaming multiprocessors
 * @param totalBytes device memory
 * @param l2Bytes L2 cache size
 * @param sharedOptInBytes largest dynamic shared memory a CTA may opt in to
 * @param memoryClockKhz peak memory clock
 * @param memoryBusBits memory bus width
 */
public record GpuInfo(
    int index,
    String name,
    int computeMajor,
    int computeMinor,
    int smCount,
    long totalBytes,
    int l2Bytes,
    int sharedOptInBytes,
    int memoryClockKhz,
    int memoryBusBits) {

  /** {@code GPU 0 (NVIDIA H200)}: how messages name this device. */
  public String label() {
    return "GPU " + index + " (" + name + ")";
  }

  /** {@code sm_90}, from the compute capability. */
  public String arch() {
    return "sm_" + computeMajor + computeMinor;
  }

  /** One line for tables and logs. */
  public String summary() {
    return String.format(
        "%s, %s, %d SMs, %.1f GiB, L2 %d MiB", label(), arch(), smCount,
        totalBytes / (double) (1L << 30), l2Bytes >> 20);
  }
}
