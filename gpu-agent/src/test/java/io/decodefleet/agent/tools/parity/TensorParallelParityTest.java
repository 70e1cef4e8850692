package io.decodefleet.agent.tools.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.tp.CpuTensorGroups;
import io.decodefleet.agent.engine.tp.TensorParallelBackend;
import org.junit.jupiter.api.Test;

/** A tensor-parallel group of CPU ranks against one CPU backend, through the parity schedule. */
class TensorParallelParityTest {

  private static final long KV_BYTES = CpuTensorGroups.KV_BYTES;
  private static final ModelConfig TINY = ModelConfig.preset("tiny");

  private static TensorParallelBackend cpuGroup(int size) {
    return CpuTensorGroups.of(size);
  }

  @Test
  void twoRanksGenerateTheSameGreedyTokensAsOneDeviceFor32Steps() {
    try (CpuBackend single = new CpuBackend(KV_BYTES); TensorParallelBackend group = cpuGroup(2)) {
      TensorParallelParity.Result r = TensorParallelParity.compare(single, group, TINY, 7, 4, 32, 16);
      assertTrue(r.passed(), r.describe());
      assertEquals(4, r.matching());
    }
  }

  @Test
  void fourRanksOfAWiderModelGenerateTheSameGreedyTokensAsOneDevice() {
    // 8 query heads over 4 KV heads, so each of the 4 ranks holds 2 query heads and 1 KV head.
    ModelConfig wide = new ModelConfig("tiny-8h", 128, 512, 8, 4, 2, 1024, 10000.0, 1e-5f, 16, 2048, false);
    try (CpuBackend single = new CpuBackend(KV_BYTES); TensorParallelBackend group = cpuGroup(4)) {
      TensorParallelParity.Result r = TensorParallelParity.compare(single, group, wide, 5, 4, 32, 16);
      assertTrue(r.passed(), r.describe());
      assertEquals(0, r.lockstep().mismatches(), r.describe());
    }
  }
}
