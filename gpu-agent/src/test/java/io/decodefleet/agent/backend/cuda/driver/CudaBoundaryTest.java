package io.decodefleet.agent.backend.cuda.driver;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/** The status boundary and device discovery, as they behave with and without a driver. */
class CudaBoundaryTest {

  private static final GpuInfo H200 =
      new GpuInfo(1, "NVIDIA H200", 9, 0, 132, 150L << 30, 60 << 20, 232448, 3201000, 6144);

  @Test
  void failedCallMessageNamesOperationGpuAndError() {
    CudaException e = assertThrows(CudaException.class, () -> CudaStatus.check(
        CUresult.CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(df_rmsnorm)", H200));
    assertTrue(e.getMessage().startsWith("cuLaunchKernel(df_rmsnorm) failed on GPU 1 (NVIDIA H200): "
        + "CUDA_ERROR_INVALID_VALUE"), e.getMessage());
    assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE, e.code());
    assertEquals("cuLaunchKernel(df_rmsnorm)", e.operation());
    assertFalse(e.getMessage().contains("\n"), "one line");
  }

  @Test
  void successIsSilent() {
    assertDoesNotThrow(() -> CudaStatus.check(CUresult.CUDA_SUCCESS, "cuInit", null));
    assertDoesNotThrow(() -> CudaStatus.check(CUresult.CUDA_SUCCESS, "cuLaunchKernel(df_rmsnorm)", H200));
    // Only CUDA_SUCCESS is silent: the next status up is already an error.
    assertThrows(CudaException.class, () -> CudaStatus.check(CUresult.CUDA_SUCCESS + 1, "cuInit", null));
    assertEquals("cuInit failed: " + CudaStatus.describe(CUresult.CUDA_ERROR_INVALID_VALUE),
        CudaStatus.message(CUresult.CUDA_ERROR_INVALID_VALUE, "cuInit", null));
  }

  @Test
  void withoutADriverDiscoveryReportsNoDeviceWithTheCause() {
    assumeFalse(CudaDriver.isAvailable(), "this machine has a CUDA driver");
    CudaDevices.Discovery d = CudaDevices.discover();
    assertFalse(d.hasDevices());
    assertTrue(d.noDeviceLine().startsWith("no CUDA "), d.noDeviceLine());
    assertTrue(d.reason().equals("no CUDA driver on this host (libcuda.so.1 not found)")
        || d.reason().contains(System.getProperty("os.arch")) || d.reason().contains("no device"),
        "the missing driver, or the platform, is named: " + d.reason());
    assertFalse(d.noDeviceLine().contains("\n"), "one line");
    assertTrue(d.noDeviceLine().length() < 120, "short: " + d.noDeviceLine());
    assertThrows(IllegalStateException.class, () -> CudaContext.open(H200));
  }

  @Test
  void loaderFailureIsCondensedToTheHeadlineAndEachAttemptsCause() {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(String.join("\n",
        "Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"",
        "Operating system name: Linux",
        "---(start of nested stack traces)---",
        "Stack trace from the attempt to load the library as a file:",
        "java.lang.UnsatisfiedLinkError: no JCudaDriver in java.library.path: /usr/lib",
        "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)",
        "Stack trace from the attempt to load the library as a resource:",
        "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared"
            + " object file: No such file or directory",
        "---(end of nested stack traces)---"));
    assertEquals("Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\" (no"
        + " JCudaDriver in java.library.path: /usr/lib; /tmp/libJCudaDriver.so: libcuda.so.1:"
        + " cannot open shared object file: No such file or directory)",
        CudaDriver.rootMessage(e));
  }

  @Test
  void aMissingDriverLibraryIsSaidInOneShortLine() {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(String.join("\n",
        "Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"",
        "Stack trace from the attempt to load the library as a resource:",
        "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared"
            + " object file: No such file or directory",
        "\tat java.base/java.lang.ClassLoader$NativeLibrary.load0(Native Method)"));
    assertEquals("libcuda.so.1", CudaDriver.missingDriverLibrary(e));
    assertEquals("libcuda.so.1", CudaDriver.missingDriverLibrary(new RuntimeException("loading", e)));
    // Any other loader failure keeps its condensed message (the platform, each attempt's error).
    assertEquals(null, CudaDriver.missingDriverLibrary(new UnsatisfiedLinkError(
        "/tmp/libJCudaDriver.so: /lib64/libc.so.6: version `GLIBC_2.34' not found")));
    assertEquals("no CUDA driver on this host (libcuda.so.1 not found)",
        new CudaDevices.Discovery(java.util.List.of(), "no CUDA driver on this host (libcuda.so.1 not found)")
            .noDeviceLine());
    assertEquals("no CUDA device: the CUDA driver reports 0 devices",
        new CudaDevices.Discovery(java.util.List.of(), "the CUDA driver reports 0 devices").noDeviceLine());
  }

  @Test
  void gpuLabelAndSummaryNameIndexModelAndArch() {
    assertEquals("GPU 1 (NVIDIA H200)", H200.label());
    assertEquals("sm_90", H200.arch());
    assertTrue(H200.summary().contains("132 SMs"), H200.summary());
  }
}
