package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.kernels.cuda.Fatbin;
import java.io.PrintStream;

/**
 * What every single-GPU device tool checks first: a CUDA device (else exit 3), the kernels' fatbin
 * (else exit 1) and a valid --gpu (else exit 2), each with one line naming the tool.
 *
 * @param gpu the chosen GPU, or null when the tool must stop with {@code exitCode}
 */
record DevicePreflight(GpuInfo gpu, int exitCode) {

  static DevicePreflight check(String tool, PrintStream out, int gpu) {
    CudaDevices.Discovery discovery = CudaDevices.discover();
    if (!discovery.hasDevices()) {
      out.println(tool + ": " + discovery.noDeviceLine());
      return new DevicePreflight(null, SelfCheckCommand.NO_GPU);
    }
    if (!Fatbin.isPresent()) {
      out.println(tool + ": " + Fatbin.absenceReason());
      return new DevicePreflight(null, 1);
    }
    if (gpu < 0 || gpu >= discovery.gpus().size()) {
      out.println(tool + ": --gpu " + gpu + " is not a GPU here (0.." + (discovery.gpus().size() - 1) + ")");
      return new DevicePreflight(null, 2);
    }
    return new DevicePreflight(discovery.gpus().get(gpu), 0);
  }

  /**
   * What every multi-GPU tool checks first: CUDA devices, at least {@code need} of them (else exit
   * 3), valid distinct indices (else 2), the fatbin when {@code needsKernels} and NCCL (else 1),
   * each with one line naming the tool.
   *
   * @param indices the GPUs asked for, in rank order; null: the first {@code need} GPUs, or every
   *     GPU when {@code need} is 0
   * @return the chosen GPUs, or no GPUs and the exit code after printing why
   */
  static Multi multi(String tool, PrintStream out, java.util.List<Integer> indices, int need, boolean needsKernels) {
    CudaDevices.Discovery discovery = CudaDevices.discover();
    if (!discovery.hasDevices()) {
      out.println(tool + ": " + discovery.noDeviceLine());
      return Multi.stop(SelfCheckCommand.NO_GPU);
    }
    java.util.List<GpuInfo> all = discovery.gpus();
    int wanted = Math.max(2, need);
    if (all.size() < wanted) {
      out.println(tool + ": needs " + wanted + " GPUs; this machine has " + all.size());
      return Multi.stop(SelfCheckCommand.NO_GPU);
    }
    java.util.List<Integer> chosen = indices != null ? indices
        : java.util.stream.IntStream.range(0, need > 0 ? need : all.size()).boxed().toList();
    java.util.List<GpuInfo> gpus = new java.util.ArrayList<>();
    for (int index : chosen) {
      if (index < 0 || index >= all.size()) {
        out.println(tool + ": --gpus " + index + " is not a GPU here (0.." + (all.size() - 1) + ")");
        return Multi.stop(2);
      }
      if (gpus.contains(all.get(index))) {
        out.println(tool + ": --gpus lists GPU " + index + " twice");
        return Multi.stop(2);
      }
      gpus.add(all.get(index));
    }
    if (gpus.size() < wanted) {
      out.println(tool + ": --gpus must name at least " + wanted + " distinct GPUs");
      return Multi.stop(2);
    }
    if (needsKernels && !Fatbin.isPresent()) {
      out.println(tool + ": " + Fatbin.absenceReason());
      return Multi.stop(1);
    }
    if (!io.decodefleet.agent.nccl.Nccl.isAvailable()) {
      out.println(tool + ": " + io.decodefleet.agent.nccl.Nccl.unavailabilityCause());
      return Multi.stop(1);
    }
    return new Multi(java.util.List.copyOf(gpus), 0);
  }

  /** @param gpus the chosen GPUs in rank order, or null when the tool must stop with {@code exitCode} */
  record Multi(java.util.List<GpuInfo> gpus, int exitCode) {
    static Multi stop(int exitCode) {
      return new Multi(null, exitCode);
    }
  }
}
