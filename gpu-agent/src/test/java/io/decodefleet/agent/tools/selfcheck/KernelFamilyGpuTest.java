package io.decodefleet.agent.tools.selfcheck;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.kernels.cuda.Fatbin;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The self-test's checks of each kernel family on GPU 0, as JUnit tests. Skipped (an assumption,
 * not a failure) where there is no CUDA device, the build has no fatbin, or the family cannot run
 * here (cuBLASLt absent, the wgmma GEMM off sm_90).
 */
@Tag("gpu")
class KernelFamilyGpuTest {

  @ParameterizedTest
  @EnumSource(KernelFamily.class)
  void matchesItsCpuReference(KernelFamily family) {
    CudaDevices.Discovery discovery = CudaDevices.discover();
    assumeTrue(discovery.hasDevices(), discovery::noDeviceLine);
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    String cause = family.unavailabilityCause(discovery.gpus().get(0));
    assumeTrue(cause.isEmpty(), cause);
    try (DeviceHarness h = DeviceHarness.open(discovery.gpus().get(0), System.nanoTime())) {
      List<CheckResult> results = family.run(h);
      String table = ResultTable.render(results);
      System.out.print(table);
      assertFalse(results.isEmpty());
      assertTrue(results.stream().allMatch(CheckResult::passed), table);
    }
  }
}
