package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.CudaDevices;
import io.decodefleet.agent.backend.cuda.GpuInfo;
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
      return new DevicePreflight(null, SelfTestCommand.NO_GPU);
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
}
