package io.decodefleet.agent.backend.cuda.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

/** Programmatic dependent launch on the host: its setting, its handles, and the kernels' side of the contract. */
class ProgrammaticLaunchTest {

  @Test
  void itIsOffUnlessAskedFor() {
    assertFalse(ProgrammaticLaunch.requested(null));
    assertFalse(ProgrammaticLaunch.requested("off"));
    assertFalse(ProgrammaticLaunch.requested(""));
    assertTrue(ProgrammaticLaunch.requested(" ON "));
    assertTrue(ProgrammaticLaunch.requested("1"));
    assertTrue(ProgrammaticLaunch.requested("true"));
    // On this host either it is available or the cause is one line.
    String cause = ProgrammaticLaunch.unavailabilityCause();
    assertTrue(cause.isEmpty() || (cause.startsWith("programmatic dependent launch is unavailable: ")
        && !cause.contains("\n")), cause);
  }

  @Test
  void aJcudaObjectsDriverHandleIsReadBack() {
    CUstream none = new CUstream(); // never created: its handle is 0
    assertEquals(0L, ProgrammaticLaunch.handle(none));
  }

  /**
   * The launch is safe only because every kernel of the fatbin waits for its predecessor before it
   * touches memory: each extern "C" kernel's first statement is df::pdl_entry().
   */
  @Test
  void everyKernelOfTheFatbinWaitsForItsPredecessorFirst() throws Exception {
    Path dir = Path.of("..", "kernels", "src", "main", "cuda");
    Pattern kernel = Pattern.compile("extern \"C\" __global__[^{]*\\{\\s*([^;\\n]*;)");
    int kernels = 0;
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
        Matcher m = kernel.matcher(Files.readString(f));
        while (m.find()) {
          kernels++;
          assertEquals("df::pdl_entry();", m.group(1).strip(), f.getFileName() + ": " + m.group().lines().findFirst()
              .orElse(""));
        }
      }
    }
    assertTrue(kernels >= 70, kernels + " kernels found");
    String common = Files.readString(dir.resolve("common.cuh"));
    assertTrue(common.contains("griddepcontrol.wait;") && common.contains("griddepcontrol.launch_dependents;"));
    assertTrue(common.indexOf("griddepcontrol.wait;") < common.indexOf("griddepcontrol.launch_dependents;"),
        "wait before letting the next kernel in");
  }
}
