package io.decodefleet.agent;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.CudaBackend;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.kernels.cuda.Fatbin;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorParallelBackend;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which backend this process's agents run on and one {@link NodeGuardian.DeviceSlot} per agent:
 * one CUDA agent per chosen GPU, or CPU agents where there is no GPU (or none is wanted). Each
 * slot's factory runs on its agent's engine thread, so a CUDA backend's context is made there.
 */
public final class LocalDevices {

  /**
   * The outcome of choosing.
   *
   * @param backend "cuda" or "cpu"
   * @param gpus the chosen GPUs (empty for cpu)
   * @param reason why this backend, in one line (printed at start-up)
   */
  public record Choice(String backend, List<GpuInfo> gpus, String reason) {

    public boolean cuda() {
      return backend.equals("cuda");
    }

    /** The choice in one line, as the processes print it at start-up: "{reason}: using the CPU backend". */
    public String describe() {
      return reason + ": using the " + backend.toUpperCase(Locale.ROOT) + " backend";
    }

    /**
     * The slot of agent {@code id} running on the {@code i}-th chosen GPU (cuda) or a CPU backend
     * with {@code cpuKvBytes} of KV memory.
     */
    public NodeGuardian.DeviceSlot slot(String id, int i, CudaSettings cuda, long cpuKvBytes) {
      if (cuda()) {
        GpuInfo gpu = gpus.get(i);
        return new NodeGuardian.DeviceSlot(id, gpu.summary(), "cuda", () -> new CudaBackend(gpu, cuda));
      }
      return new NodeGuardian.DeviceSlot(id, "cpu slot " + i, "cpu", () -> new CpuBackend(cpuKvBytes));
    }

    /**
     * The slot of agent {@code id} as tensor-parallel group {@code g} of {@code k} devices: GPUs
     * {@code [g k, (g + 1) k)} of the chosen ones (cuda) or {@code k} CPU ranks with {@code
     * cpuKvBytes} of KV memory each. With {@code k == 1}, {@link #slot}.
     */
    public NodeGuardian.DeviceSlot groupSlot(String id, int g, int k, CudaSettings cuda, long cpuKvBytes) {
      return groupSlot(id, g, k, Parallelism.TENSOR, cuda, cpuKvBytes);
    }

    /** As {@link #groupSlot(String, int, int, CudaSettings, long)}, the ranks splitting as {@code parallelism} says. */
    public NodeGuardian.DeviceSlot groupSlot(String id, int g, int k, Parallelism parallelism, CudaSettings cuda,
        long cpuKvBytes) {
      if (k == 1) return slot(id, g, cuda, cpuKvBytes);
      List<Supplier<Backend>> ranks = new ArrayList<>();
      List<String> names = new ArrayList<>();
      if (cuda()) {
        if ((g + 1) * k > gpus.size()) {
          throw new IllegalArgumentException("tensor-parallel group " + g + " of " + k + " GPUs needs GPUs " + g * k
              + ".." + ((g + 1) * k - 1) + " but " + gpus.size() + " are chosen");
        }
        for (GpuInfo gpu : gpus.subList(g * k, (g + 1) * k)) {
          ranks.add(() -> new CudaBackend(gpu, cuda));
          names.add(gpu.label());
        }
      } else {
        for (int r = 0; r < k; r++) {
          ranks.add(() -> new CpuBackend(cpuKvBytes));
          names.add("cpu rank " + r);
        }
      }
      String device = (parallelism == Parallelism.EXPERT ? "expert-parallel x" : "tensor-parallel x") + k + " over "
          + String.join(" + ", names);
      return new NodeGuardian.DeviceSlot(id, device, backend, () -> new TensorParallelBackend(id, ranks,
          TENSOR_GROUP_TIMEOUT, parallelism), k, parallelism);
    }
  }

  /** Limit for a tensor-parallel group to form and for each of its steps on a rank. */
  public static final java.time.Duration TENSOR_GROUP_TIMEOUT = java.time.Duration.ofSeconds(120);

  private LocalDevices() {}

  /**
   * Chooses for a {@code gpu-agent} daemon.
   *
   * @param devices "auto" (every GPU if there is one, else CPU), "cpu", or GPU indices "0,1"
   */
  public static Choice forDaemon(String devices, CudaDevices.Discovery discovery) {
    String spec = devices.strip().toLowerCase(Locale.ROOT);
    if (spec.equals("cpu")) {
      return new Choice("cpu", List.of(), "--devices cpu");
    }
    if (spec.equals("auto")) {
      if (!usable(discovery)) {
        return new Choice("cpu", List.of(), whyNot(discovery));
      }
      return new Choice("cuda", discovery.gpus(), discovery.gpus().size() + " CUDA device(s) found");
    }
    if (!usable(discovery)) {
      throw new IllegalArgumentException("--devices " + devices + ": " + whyNot(discovery));
    }
    List<GpuInfo> chosen = new ArrayList<>();
    for (int index : parseIndices(devices, discovery.gpus().size())) {
      chosen.add(discovery.gpus().get(index));
    }
    return new Choice("cuda", chosen, "--devices " + devices);
  }

  /**
   * Chooses for the embedded cluster of {@code agents} agents in this process.
   *
   * @param backend "auto" (CUDA when there are at least {@code agents} GPUs), "cpu" or "cuda"
   */
  public static Choice forEmbedded(String backend, int agents, CudaDevices.Discovery discovery) {
    String b = backend.strip().toLowerCase(Locale.ROOT);
    switch (b) {
      case "cpu":
        return new Choice("cpu", List.of(), "--backend cpu");
      case "cuda":
        if (!usable(discovery)) {
          throw new IllegalArgumentException("--backend cuda: " + whyNot(discovery));
        }
        if (agents > discovery.gpus().size()) {
          throw new IllegalArgumentException("--backend cuda: " + agents + " agents need " + agents
              + " GPUs but " + discovery.gpus().size() + " are here");
        }
        return new Choice("cuda", discovery.gpus().subList(0, agents), "--backend cuda");
      case "auto":
        if (!usable(discovery)) {
          return new Choice("cpu", List.of(), whyNot(discovery));
        }
        if (agents > discovery.gpus().size()) {
          return new Choice("cpu", List.of(), agents + " agents but only " + discovery.gpus().size() + " GPUs");
        }
        return new Choice("cuda", discovery.gpus().subList(0, agents), agents + " agents <= "
            + discovery.gpus().size() + " GPUs");
      default:
        throw new IllegalArgumentException("--backend must be auto, cpu or cuda, got '" + backend + "'");
    }
  }

  /** GPU indices from "0,1,3": each once, each in {@code [0, count)}, in the order given. */
  public static List<Integer> parseIndices(String spec, int count) {
    Set<Integer> out = new LinkedHashSet<>();
    for (String part : spec.split(",")) {
      String p = part.strip();
      int index;
      try {
        index = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--devices: '" + p + "' is not a GPU index (give e.g. 0,1, auto or cpu)");
      }
      if (index < 0 || index >= count) {
        throw new IllegalArgumentException("--devices: GPU " + index + " is not a CUDA device here (0.."
            + (count - 1) + ")");
      }
      if (!out.add(index)) {
        throw new IllegalArgumentException("--devices lists GPU " + index + " twice");
      }
    }
    return List.copyOf(out);
  }

  private static boolean usable(CudaDevices.Discovery d) {
    return d.hasDevices() && Fatbin.isPresent();
  }

  private static String whyNot(CudaDevices.Discovery d) {
    return d.hasDevices() ? Fatbin.absenceReason() : d.noDeviceLine();
  }
}
