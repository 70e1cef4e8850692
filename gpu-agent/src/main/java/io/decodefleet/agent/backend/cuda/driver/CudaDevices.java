package io.decodefleet.agent.backend.cuda.driver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/** Discovery of the local GPUs. */
public final class CudaDevices {

  /**
   * The result of looking for GPUs: the devices, or why there are none.
   *
   * @param reason empty when {@code gpus} is not empty
   */
  public record Discovery(List<GpuInfo> gpus, String reason) {

    public Discovery {
      gpus = List.copyOf(gpus);
    }

    public boolean hasDevices() {
      return !gpus.isEmpty();
    }

    /**
     * The one line to print when there is no GPU: {@code no CUDA device: <reason>}, or the reason alone
     * where it says so already ({@code no CUDA driver on this host (libcuda.so.1 not found)}).
     */
    public String noDeviceLine() {
      return reason.startsWith("no CUDA ") ? reason : "no CUDA device: " + reason;
    }
  }

  private CudaDevices() {}

  /** Every GPU the driver sees; never throws for a missing driver or a GPU-less machine. */
  public static Discovery discover() {
    if (!CudaDriver.isAvailable()) {
      return new Discovery(List.of(), CudaDriver.unavailabilityCause());
    }
    int[] count = new int[1];
    CudaStatus.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount", null);
    if (count[0] == 0) {
      return new Discovery(List.of(), "the CUDA driver reports 0 devices");
    }
    List<GpuInfo> gpus = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      gpus.add(describe(i));
    }
    return new Discovery(gpus, "");
  }

  static CUdevice device(int index) {
    CUdevice dev = new CUdevice();
    CudaStatus.check(JCudaDriver.cuDeviceGet(dev, index), "cuDeviceGet(" + index + ")", null);
    return dev;
  }

  private static GpuInfo describe(int index) {
    CUdevice dev = device(index);
    byte[] name = new byte[256];
    CudaStatus.check(JCudaDriver.cuDeviceGetName(name, name.length, dev),
        "cuDeviceGetName(" + index + ")", null);
    int len = 0;
    while (len < name.length && name[len] != 0) {
      len++;
    }
    String gpuName = new String(name, 0, len, StandardCharsets.UTF_8);
    long[] total = new long[1];
    CudaStatus.check(JCudaDriver.cuDeviceTotalMem(total, dev),
        "cuDeviceTotalMem(" + index + ")", null);
    return new GpuInfo(
        index, gpuName,
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
        total[0],
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE),
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
        attribute(dev, index, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH));
  }

  private static int attribute(CUdevice dev, int index, int attribute) {
    int[] v = new int[1];
    CudaStatus.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, dev),
        "cuDeviceGetAttribute(" + attribute + ") of device " + index, null);
    return v[0];
  }
}
