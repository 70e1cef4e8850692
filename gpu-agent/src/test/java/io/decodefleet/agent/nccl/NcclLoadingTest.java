package io.decodefleet.agent.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Loading the shim, and what a machine without NCCL is told. */
class NcclLoadingTest {

  @Test
  void withoutNcclTheCauseNamesThePlatformAndWhatIsMissing() {
    assumeFalse(Nccl.isAvailable(), "this machine has NCCL");
    String cause = Nccl.unavailabilityCause();
    assertTrue(cause.startsWith("NCCL is unavailable on " + System.getProperty("os.name") + "/"
        + System.getProperty("os.arch") + ": "), cause);
    assertTrue(cause.contains("libnccl.so.2") || cause.contains("NCCL shim"), cause);
    assertFalse(cause.contains("\n"), "one line: " + cause);
    assertFalse(Nccl.nonBlockingComms());
  }

  @Test
  void whereTheShimLoadedTheCauseIsDlopensOwnMessage() {
    assumeFalse(Nccl.isAvailable(), "this machine has NCCL");
    assumeTrue(NativeShim.class.getResource(NativeShim.RESOURCE) != null, "no shim in this build");
    assumeTrue(NativeShim.ncclLibrary().equals("libnccl.so.2"), "a library was named explicitly");
    assertTrue(Nccl.unavailabilityCause().contains("libnccl.so.2 not found by dlopen: libnccl.so.2:"
        + " cannot open shared object file"), Nccl.unavailabilityCause());
    assertTrue(Nccl.unavailabilityCause().endsWith("(put NCCL's lib folder on LD_LIBRARY_PATH, or"
        + " name the file with -Ddecodefleet.nccl.library=PATH or DECODEFLEET_NCCL_LIBRARY=PATH)"));
  }

  @Test
  void callsWithoutNcclThrowTheCause() {
    assumeFalse(Nccl.isAvailable(), "this machine has NCCL");
    IllegalStateException e = assertThrows(IllegalStateException.class, Nccl::uniqueId);
    assertEquals(Nccl.unavailabilityCause(), e.getMessage());
    assertThrows(IllegalStateException.class, Nccl::version);
    assertThrows(IllegalStateException.class, Nccl::groupStart);
    assertThrows(IllegalStateException.class,
        () -> NcclCommunicator.commInitRank(2, new byte[128], 0, 0, Duration.ofSeconds(1)));
  }

  @Test
  void theBuildPutsAnX8664SharedObjectAmongTheClassesWhereGccExists() throws IOException {
    assumeTrue(NativeShim.isLinuxX8664(), "the shim is built on linux-x86_64 only");
    assumeTrue(onPath("gcc"), "no gcc on this build machine");
    try (InputStream in = NativeShim.class.getResourceAsStream(NativeShim.RESOURCE)) {
      assertNotNull(in, NativeShim.RESOURCE + " is among the classes");
      byte[] elf = in.readNBytes(20);
      assertEquals(0x7f, elf[0]);
      assertEquals("ELF", new String(elf, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
      assertEquals(2, elf[4], "64-bit");
      assertEquals(3, elf[16], "ET_DYN: a shared object");
      assertEquals(62, elf[18], "EM_X86_64");
    }
  }

  @Test
  void theLibraryNameDefaultsToTheSonameAndThePropertyWins() {
    String before = System.getProperty(NativeShim.LIBRARY_PROPERTY);
    try {
      System.clearProperty(NativeShim.LIBRARY_PROPERTY);
      String expected = System.getenv(NativeShim.LIBRARY_ENV) != null
          && !System.getenv(NativeShim.LIBRARY_ENV).isBlank()
          ? System.getenv(NativeShim.LIBRARY_ENV).strip() : "libnccl.so.2";
      assertEquals(expected, NativeShim.ncclLibrary());
      System.setProperty(NativeShim.LIBRARY_PROPERTY, " /opt/nccl/lib/libnccl.so.2 ");
      assertEquals("/opt/nccl/lib/libnccl.so.2", NativeShim.ncclLibrary());
    } finally {
      if (before == null) {
        System.clearProperty(NativeShim.LIBRARY_PROPERTY);
      } else {
        System.setProperty(NativeShim.LIBRARY_PROPERTY, before);
      }
    }
  }

  @Test
  void versionCodesReadAsNcclWritesThem() {
    assertEquals("2.27.3", Nccl.versionText(22703));
    assertEquals("2.8.4", Nccl.versionText(2804));
    assertEquals("3.0.0", Nccl.versionText(30000));
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
