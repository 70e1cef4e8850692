package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The Java mirrors and the catalog agree with the CUDA sources, field by field and name by name. */
class CatalogMatchesCudaTest {

  @Test
  void everyParamsRecordHasTheCudaStructsFieldsInOrderAtTheSameOffsets() throws Exception {
    Map<String, List<CudaSources.CField>> structs = CudaSources.structs();
    Set<Class<? extends KernelParams>> types = new java.util.LinkedHashSet<>();
    for (Kernel k : Kernel.values()) {
      types.add(k.paramsType());
    }
    assertEquals(structs.keySet(), names(types), "structs in src/main/cuda vs Java mirrors");
    for (Class<? extends KernelParams> type : types) {
      StructLayout layout = layoutOf(type);
      List<CudaSources.CField> cFields = structs.get(type.getSimpleName());
      assertEquals(cFields.size(), layout.fields().size(), type.getSimpleName() + " field count");
      int offset = 0;
      for (int i = 0; i < cFields.size(); i++) {
        CudaSources.CField c = cFields.get(i);
        StructLayout.Field j = layout.fields().get(i);
        offset = (offset + c.size() - 1) / c.size() * c.size();
        String where = type.getSimpleName() + " field " + i;
        assertEquals(c.name(), j.name(), where + " name");
        assertEquals(c.size(), j.kind().size(), where + " (" + c.name() + ") size");
        assertEquals(offset, j.offset(), where + " (" + c.name() + ") offset");
        offset += c.size();
      }
    }
  }

  @Test
  void everyStructSizePinnedInCudaEqualsTheJavaLayoutSize() throws Exception {
    Map<String, Integer> pinned = CudaSources.pinnedSizes();
    for (Kernel k : Kernel.values()) {
      String name = k.paramsType().getSimpleName();
      assertNotNull(pinned.get(name), name + " has no DF_PARAMS_SIZE in the CUDA sources");
      assertEquals(pinned.get(name).intValue(), layoutOf(k.paramsType()).size(), name + " size");
    }
  }

  @Test
  void catalogListsExactlyTheKernelsTheSourcesDefineWithTheirParamsStruct() {
    Set<String> inSources = new TreeSet<>();
    for (CudaSources.CKernel c : CudaSources.kernels()) {
      inSources.add(c.symbol() + "(" + c.paramsStruct() + ")");
    }
    Set<String> inCatalog = new TreeSet<>();
    for (Kernel k : Kernel.values()) {
      inCatalog.add(k.symbol() + "(" + k.paramsType().getSimpleName() + ")");
    }
    assertEquals(inSources, inCatalog);
  }

  @Test
  void unityFileIncludesEveryKernelFamily() throws Exception {
    String unity = java.nio.file.Files.readString(CudaSources.DIR.resolve("decodefleet.cu"));
    List<String> missing = new ArrayList<>();
    try (var files = java.nio.file.Files.list(CudaSources.DIR)) {
      for (var p : files.toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(".cu") && !name.equals("decodefleet.cu")
            && !unity.contains("#include \"" + name + "\"")) {
          missing.add(name);
        }
      }
    }
    assertTrue(missing.isEmpty(), "decodefleet.cu does not include " + missing);
  }

  private static StructLayout layoutOf(Class<?> type) throws Exception {
    Field f = type.getField("LAYOUT");
    return (StructLayout) f.get(null);
  }

  private static Set<String> names(Set<Class<? extends KernelParams>> types) {
    Set<String> out = new java.util.LinkedHashSet<>();
    for (Class<?> t : types) {
      out.add(t.getSimpleName());
    }
    return new TreeSet<>(out);
  }
}
