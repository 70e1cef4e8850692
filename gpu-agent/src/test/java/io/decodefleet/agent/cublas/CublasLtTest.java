package io.decodefleet.agent.cublas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** The binding's behaviour where cuBLASLt is absent (the CPU build host), and the shim's own argument checks. */
class CublasLtTest {

  @Test
  void aHostWithoutTheLibrarySaysWhyInOneLineNamingEveryLibraryTried() {
    assumeFalse(CublasLt.isAvailable(), "cuBLASLt is present here");
    String cause = CublasLt.unavailabilityCause();
    assertFalse(cause.contains("\n"), cause);
    assertTrue(cause.startsWith("cuBLASLt is unavailable on "), cause);
    if (!cause.contains("shim is not in the jar")) { // the shim loaded: both sonames were tried
      assertTrue(cause.contains("libcublasLt.so.13") && cause.contains("libcublasLt.so.12"), cause);
      assertTrue(cause.contains(CublasLt.LIBRARY_PROPERTY) && cause.contains(CublasLt.LIBRARY_ENV), cause);
    }
    assertEquals("", CublasLt.library());
  }

  @Test
  void callsWithoutTheLibraryFailNamingTheOperation() {
    assumeFalse(CublasLt.isAvailable(), "cuBLASLt is present here");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> CublasLt.create("GPU 0"));
    assertTrue(e.getMessage().startsWith("cublasLtCreate: cuBLASLt is unavailable"), e.getMessage());
  }

  @Test
  void exceptionNamesOperationDeviceAndStatus() {
    CublasException e = new CublasException("cublasLtMatmul (m 1, n 2, k 3, algorithm 0)", "GPU 1 (NVIDIA H200)", 7,
        "CUBLAS_STATUS_INVALID_VALUE: an invalid value was used as an argument");
    assertEquals("cublasLtMatmul (m 1, n 2, k 3, algorithm 0) failed on GPU 1 (NVIDIA H200): "
        + "CUBLAS_STATUS_INVALID_VALUE: an invalid value was used as an argument (status 7)", e.getMessage());
    assertEquals(7, e.status());
  }
}
