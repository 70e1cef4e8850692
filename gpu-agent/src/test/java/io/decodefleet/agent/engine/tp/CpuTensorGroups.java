package io.decodefleet.agent.engine.tp;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.Backend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Test fixture: a tensor-parallel group of CPU ranks, as the engine and parity tests build it. */
public final class CpuTensorGroups {

  /** KV memory of each rank. */
  public static final long KV_BYTES = 8L << 20;
  public static final Duration TIMEOUT = Duration.ofSeconds(20);

  private CpuTensorGroups() {}

  public static TensorParallelBackend of(int size) {
    List<Supplier<Backend>> ranks = new ArrayList<>();
    for (int r = 0; r < size; r++) ranks.add(() -> new CpuBackend(KV_BYTES));
    return new TensorParallelBackend("test", ranks, TIMEOUT);
  }
}
