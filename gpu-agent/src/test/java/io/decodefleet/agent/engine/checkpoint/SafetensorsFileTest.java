package io.decodefleet.agent.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The safetensors header reader: what it accepts, and each refusal with the line it gives. */
class SafetensorsFileTest {

  @TempDir
  Path dir;

  private Path file(String header, int data) throws IOException {
    return TestCheckpoints.raw(dir.resolve("x.safetensors"), header, data);
  }

  private String refusal(Path file) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.read(file));
    assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage().substring(file.toString().length() + 2);
  }

  @Test
  void readsEntriesWithAbsoluteOffsetsAndMetadata() throws IOException {
    String header = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
        + "\"a\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[0,4]},"
        + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[12,12]}}   "; // padded with spaces
    SafetensorsFile f = SafetensorsFile.read(file(header, 12));
    assertEquals(List.of("a", "b", "empty"), List.copyOf(f.tensors().keySet()), "in data order");
    long dataStart = 8 + header.length();
    TensorEntry b = f.tensors().get("b");
    assertEquals(TensorDtype.F32, b.dtype());
    assertArrayEquals(new long[] {2}, b.shape());
    assertEquals(dataStart + 4, b.dataOffset());
    assertEquals(8, b.byteLength());
    assertEquals(0, f.tensors().get("empty").elements());
    assertEquals(Map.of("format", "pt"), f.metadata());
  }

  @Test
  void acceptsAGapBetweenTensors() throws IOException {
    SafetensorsFile f = SafetensorsFile.read(file("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
        + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}", 8));
    assertEquals(2, f.tensors().size());
  }

  @Test
  void refusesAFileTooShortForTheLength() throws IOException {
    Path f = dir.resolve("short.safetensors");
    java.nio.file.Files.write(f, new byte[5]);
    assertEquals("file of 5 bytes is too short for a safetensors header (an 8-byte length comes first)", refusal(f));
  }

  @Test
  void refusesAHeaderOverTheCap() throws IOException {
    assertEquals("header length 100000001 exceeds the cap of 100000000 bytes",
        refusal(TestCheckpoints.withLength(dir.resolve("big.safetensors"), 100_000_001L, 16)));
    assertEquals("header length 18446744073709551615 exceeds the cap of 100000000 bytes",
        refusal(TestCheckpoints.withLength(dir.resolve("neg.safetensors"), -1L, 16)));
  }

  @Test
  void refusesAHeaderPastTheEndOfTheFile() throws IOException {
    assertEquals("header length 64 does not fit the 24-byte file",
        refusal(TestCheckpoints.withLength(dir.resolve("cut.safetensors"), 64, 16)));
  }

  @Test
  void refusesAHeaderThatIsNotAJsonObject() throws IOException {
    assertEquals("header does not start with '{': not a safetensors file", refusal(file("[1, 2]", 0)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}|malformed JSON header at line 1, column",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}},{}|malformed JSON header at line 1, column",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
          + "\"data_offsets\":[0,4]}}|malformed JSON header at line 1, column",
  })
  void refusesMalformedJson(String header, String start) throws IOException {
    String why = refusal(file(header, 4));
    assertTrue(why.startsWith(start), why);
  }

  @Test
  void aRepeatedNameIsNamed() throws IOException {
    String why = refusal(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
    assertTrue(why.contains("Duplicate field 'w'"), why);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', value = {
      "{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}|tensor 'w': unknown dtype 'Q4'",
      "{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}|tensor 'w': unknown dtype 'f32'",
      "{\"shape\":[1],\"data_offsets\":[0,4]}|tensor 'w': dtype is missing or not a string",
      "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}|tensor 'w': shape is missing or not an array",
      "{\"dtype\":\"F32\",\"shape\":[1]}|tensor 'w': data_offsets is missing or not an array",
      "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}|tensor 'w': unknown key 'x' (an entry has"
          + " dtype, shape and data_offsets)",
      "{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}|tensor 'w': shape[0] = -1 is not a non-negative"
          + " integer",
      "{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}|tensor 'w': shape[0] = 1.5 is not a non-negative"
          + " integer",
      "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}|tensor 'w': data_offsets has 1 values, not 2",
      "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}|tensor 'w': data_offsets [4, 0] run backwards",
      "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}|tensor 'w': data_offsets [8, 12] run past the end of"
          + " the file's 8 data bytes",
      "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}|tensor 'w': data_offsets [0, 8] hold 8 bytes but F32"
          + " [3] needs 12",
      "{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}|tensor 'w': shape"
          + " [4611686018427387904] overflows",
      "[1]|tensor 'w': entry is not a JSON object",
  })
  void refusesABadEntryNamingTheTensor(String entry, String expected) throws IOException {
    assertEquals(expected, refusal(file("{\"w\":" + entry + "}", 8)));
  }

  @Test
  void refusesOverlappingTensorsNamingBoth() throws IOException {
    assertEquals("tensor 'b': bytes [4, 12) overlap tensor 'a' [0, 8)",
        refusal(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)));
  }

  @Test
  void refusesMetadataThatIsNotStrings() throws IOException {
    assertEquals("__metadata__ value of 'n' is not a string", refusal(file("{\"__metadata__\":{\"n\":1}}", 0)));
    assertEquals("__metadata__ is not a JSON object", refusal(file("{\"__metadata__\":[]}", 0)));
  }
}
