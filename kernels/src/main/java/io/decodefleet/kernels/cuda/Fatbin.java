package io.decodefleet.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The compiled kernels: one fatbin (sm_90a and sm_100a machine code, compute_90 PTX) packed as a
 * classpath resource by the Maven build when nvcc is available. A build without nvcc is CPU-only
 * and has no fatbin; {@link #isPresent()} says which kind of build this is.
 */
public final class Fatbin {

  /** Classpath location of the fatbin. */
  public static final String RESOURCE = "/io/decodefleet/kernels/cuda/decodefleet.fatbin";

  private Fatbin() {}

  /** Whether this build carries the fatbin. */
  public static boolean isPresent() {
    return Fatbin.class.getResource(RESOURCE) != null;
  }

  /** Why there is no fatbin, or an empty string if there is one. */
  public static String absenceReason() {
    return isPresent()
        ? ""
        : "this build of decodefleet-kernels has no " + RESOURCE.substring(1)
            + " (it was built where nvcc was not found: a CPU-only build)";
  }

  /** The fatbin's bytes, as {@code cuModuleLoadData} takes them. */
  public static byte[] bytes() {
    try (InputStream in = Fatbin.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(absenceReason());
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }
}
