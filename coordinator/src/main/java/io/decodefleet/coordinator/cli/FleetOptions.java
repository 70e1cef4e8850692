package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** The fleet a run (or a simulation) serves the workload on: its world size(s), layout, placement and seed. */
final class FleetOptions {
  @Option(names = "--world-size", description = "GPUs (or CPU slots) that serve the run: one agent each, or one "
      + "agent per K of them with --layout tp=K (default: ${DEFAULT-VALUE}).")
  int worldSize = 8;

  @Option(names = "--world-sizes", split = ",", description = "Sweep: run the same workload at each of these world "
      + "sizes (e.g. 1,2,4,8), reusing the cluster; overrides --world-size.")
  List<Integer> worldSizes;

  @Option(names = "--layout", paramLabel = "LAYOUT", description = "How the agents share each sequence: dp (every "
      + "agent a full replica), tp=K (tensor parallelism: each replica spans K GPUs of one node, heads and MLP "
      + "split, an NCCL all-reduce after attention and after the MLP; world sizes multiples of K), ep=K (a mixture "
      + "of experts' experts spread over K CPU ranks per replica, attention data-parallel) or disagg=P:D (P "
      + "prefill agents, then D decode agents, by agent id: each prefilled sequence's KV moves over NCCL to a "
      + "decode agent; CUDA agents, --world-size P+D) (default: ${DEFAULT-VALUE}).")
  String layout = "dp";

  @Option(names = "--kv-transfer", paramLabel = "MODE", description = "With --layout disagg: how each KV transfer "
      + "runs on the GPU, eager (pack, send / receive, unpack launched one by one) or graph (a CUDA graph captured "
      + "per page count) (default: eager).")
  String kvTransfer;

  @Option(names = "--placement", description = "least-loaded (free KV blocks), round-robin, or prefix-aware (the "
      + "agent whose prefix cache saves the most prefill, net of load; prefix-aware:W weighs load by W, default 1) "
      + "(default: ${DEFAULT-VALUE}).")
  String placement = PlacementPolicy.DEFAULT;

  @Option(names = "--seed", description = "Seed of the workload and the dummy weights; with --endpoint, of the "
      + "workload (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  /** The world sizes, checked: --world-sizes if given, else --world-size. */
  List<Integer> sizes() {
    List<Integer> sizes = worldSizes != null ? worldSizes : List.of(worldSize);
    if (sizes.isEmpty()) throw new UsageError("--world-sizes is empty");
    Set<Integer> seen = new HashSet<>();
    for (int n : sizes) {
      String option = worldSizes != null ? "--world-sizes" : "--world-size";
      if (n < 1) throw new UsageError(option + " must be >= 1, got " + n);
      if (!seen.add(n)) throw new UsageError("--world-sizes lists " + n + " twice");
    }
    return sizes;
  }

  /** --placement, checked. */
  PlacementPolicy placementPolicy() {
    try {
      return PlacementPolicy.named(placement);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--placement: " + e.getMessage());
    }
  }

  /** --layout and --kv-transfer, checked against the world sizes. */
  ParallelLayout parallelLayout(List<Integer> sizes) {
    KvTransferMode mode;
    try {
      mode = KvTransferMode.parse(kvTransfer == null ? "eager" : kvTransfer);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--kv-transfer must be eager or graph, got '" + kvTransfer + "'");
    }
    ParallelLayout parsed;
    try {
      parsed = ParallelLayout.parse(layout, mode);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--layout " + e.getMessage());
    }
    if (parsed.agents() == 0) {
      if (kvTransfer != null) throw new UsageError("--kv-transfer applies to --layout disagg=P:D only");
      int k = parsed.tensorParallel();
      for (int size : sizes) {
        if (size % k != 0) {
          throw new UsageError("--layout " + parsed.label() + " needs world sizes that are multiples of " + k
              + " (GPUs per replica), got " + size);
        }
      }
      return parsed;
    }
    if (sizes.size() != 1 || sizes.get(0) != parsed.agents()) {
      throw new UsageError("--layout " + parsed.label() + " needs --world-size " + parsed.agents() + " (P + D agents), "
          + "got " + (worldSizes != null ? "--world-sizes " + worldSizes : String.valueOf(sizes.get(0))));
    }
    return parsed;
  }
}
