package io.decodefleet.agent.backend.cuda.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
  void theSettingReadsOnOffOrAutoAndAutoByDefault() {
    assertEquals(ProgrammaticLaunch.Mode.AUTO, ProgrammaticLaunch.requested(null));
    assertEquals(ProgrammaticLaunch.Mode.AUTO, ProgrammaticLaunch.requested(""));
    assertEquals(ProgrammaticLaunch.Mode.AUTO, ProgrammaticLaunch.requested(" Auto "));
    assertEquals(ProgrammaticLaunch.Mode.OFF, ProgrammaticLaunch.requested("off"));
    assertEquals(ProgrammaticLaunch.Mode.OFF, ProgrammaticLaunch.requested("0"));
    assertEquals(ProgrammaticLaunch.Mode.ON, ProgrammaticLaunch.requested(" ON "));
    assertEquals(ProgrammaticLaunch.Mode.ON, ProgrammaticLaunch.requested("1"));
    assertEquals(ProgrammaticLaunch.Mode.ON, ProgrammaticLaunch.requested("true"));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> ProgrammaticLaunch.requested("sometimes"));
    assertEquals("DECODEFLEET_PDL=sometimes: expected on, off or auto", bad.getMessage());
    // On this host either it is available or the cause is one line.
    String cause = ProgrammaticLaunch.unavailabilityCause();
    assertTrue(cause.isEmpty() || (cause.startsWith("programmatic dependent launch is unavailable: ")
        && !cause.contains("\n")), cause);
  }

  @Test
  void autoUsesItForStepsOfFewDecodeRowsOnlyAndNotOutsideSteps() {
    ProgrammaticLaunch.Mode auto = ProgrammaticLaunch.Mode.AUTO;
    assertTrue(auto.forStep(0), "a prompt step");
    assertTrue(auto.forStep(1));
    assertTrue(auto.forStep(ProgrammaticLaunch.AUTO_MAX_DECODE_ROWS));
    assertFalse(auto.forStep(ProgrammaticLaunch.AUTO_MAX_DECODE_ROWS + 1), "slower at 64 rows on an H100");
    assertFalse(auto.forStep(256));
    assertFalse(auto.outsideSteps());
    assertTrue(ProgrammaticLaunch.Mode.ON.forStep(256) && ProgrammaticLaunch.Mode.ON.outsideSteps());
    assertFalse(ProgrammaticLaunch.Mode.OFF.forStep(1) || ProgrammaticLaunch.Mode.OFF.outsideSteps());
    assertEquals("", ProgrammaticLaunch.Mode.OFF.label());
    assertEquals(" (programmatic dependent launch for steps of at most 8 decode rows)", auto.label());
  }

  @Test
  void aJcudaObjectsDriverHandleIsReadBack() {
    CUstream none = new CUstream(); // never created: its handle is 0
    assertEquals(0L, ProgrammaticLaunch.handle(none));
  }

  /**
   * The launch is safe only because every kernel of the fatbin waits for its predecessor before it
   * touches memory a predecessor may write: each extern "C" kernel's first statement is df::pdl_entry(),
   * except the GEMMs that read resident weights before it (skinny and FP8 skinny GEMMs through
   * skinny_prologue, the FP8 GEMVs), whose bodies call it themselves after those loads only, RoPE + KV
   * append, which reads its step inputs (positions, slots) and the angle table first, and the decode attention's
   * split and persistent kernels, which read the work item, context length, block table and the KV rows of
   * earlier steps first.
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
          String first = m.group(1).strip();
          if (!EARLY_WEIGHTS.matcher(first).matches()) {
            assertEquals("df::pdl_entry();", first, f.getFileName() + ": " + m.group().lines().findFirst().orElse(""));
          }
        }
      }
    }
    assertTrue(kernels >= 70, kernels + " kernels found");
    // The early loads are weights only; the wait comes before x, partials and counters.
    String prologue = body(Files.readString(dir.resolve("skinny_gemm.cu")), "void skinny_prologue(");
    assertTrue(prologue.indexOf("loadW(") < prologue.indexOf("pdl_entry();")
        && prologue.indexOf("pdl_entry();") < prologue.indexOf("loadX("), prologue);
    assertTrue(body(Files.readString(dir.resolve("skinny_gemm.cu")), "void skinny_tile(").contains("skinny_prologue<"));
    assertTrue(body(Files.readString(dir.resolve("skinny_gemm_fp8.cu")), "void skinny_fp8_tile(")
        .contains("skinny_prologue<"));
    String gemv = body(Files.readString(dir.resolve("gemv_fp8.cu")), "void gemv_fp8(");
    assertTrue(gemv.indexOf("gemv_fp8_load(") < gemv.indexOf("pdl_entry();")
        && gemv.indexOf("pdl_entry();") < gemv.indexOf("p.x"), gemv);
    String rope = body(Files.readString(dir.resolve("rope_kv.cu")), "void rope_and_append(");
    String beforeWait = rope.substring(0, rope.indexOf("pdl_entry();"));
    assertTrue(beforeWait.contains("p.positions") && beforeWait.contains("p.cosSin"), beforeWait);
    assertFalse(Pattern.compile("p\\.(q|k|v|qOut|kCache|vCache|qNorm|kNorm|qBias|kBias|vBias)\\b").matcher(beforeWait)
        .find(), "nothing a launch of the step writes is read before the wait: " + beforeWait);
    String attention = Files.readString(dir.resolve("decode_attention.cu"));
    for (String item : new String[] {"void process_item(", "void process_item_fp8("}) {
      String body = body(attention, item);
      String early = body.substring(0, body.indexOf("pdl_entry();"));
      assertTrue(early.contains("early ? it.last : -1"), item + ": the step's own row is not read before the wait");
      assertFalse(early.contains("load_q"), item + ": q is read after the wait");
      assertTrue(body.indexOf("pdl_entry();") < body.indexOf("load_q<"), item);
    }
    String items = body(attention, "void decode_items(");
    assertTrue(items.contains("round == 0"), "only a CTA's first item comes before the wait");
    String common = Files.readString(dir.resolve("common.cuh"));
    assertTrue(common.contains("griddepcontrol.wait;") && common.contains("griddepcontrol.launch_dependents;"));
    assertTrue(common.indexOf("griddepcontrol.wait;") < common.indexOf("griddepcontrol.launch_dependents;"),
        "wait before letting the next kernel in");
  }

  /** First statements of the kernels that load resident weights before their own pdl_entry. */
  private static final Pattern EARLY_WEIGHTS =
      Pattern.compile("df::(skinny_tile|skinny_fp8_tile)<\\d+>\\(p\\);|df::gemv_fp8(_mma<(false|true)(, true)?>)?\\(p\\);"
          + "|df::rope_and_append<(false|true)>\\(p\\);"
          + "|df::decode_(split|persistent|graph_split)<\\d+(, true)?>\\((p|g|df::step_params\\(g\\))\\);");

  /** The body of the device function whose signature contains {@code signature}, braces balanced. */
  private static String body(String source, String signature) {
    int at = source.indexOf(signature);
    assertTrue(at >= 0, signature + " not found");
    int open = source.indexOf('{', at);
    int depth = 0;
    for (int i = open; i < source.length(); i++) {
      if (source.charAt(i) == '{') depth++;
      if (source.charAt(i) == '}' && --depth == 0) return source.substring(open, i + 1);
    }
    throw new AssertionError("unbalanced braces after " + signature);
  }
}
