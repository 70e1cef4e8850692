package io.decodefleet.agent.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CheckpointExceptionTest {

  @Test
  void aTensorNameWithLineBreaksOrControlCharactersStaysOnOneLine() {
    assertEquals("'model.norm.weight'", CheckpointException.quoted("model.norm.weight"));
    assertEquals("'a\\nb\\rc\\td\\u0000e\\u007ff\\u2028g'", CheckpointException.quoted("a\nb\rc\td\0e\u007ff\u2028g"));
    assertEquals("/m/x.safetensors: tensor 'bad\\nname': unknown dtype 'Q4_K'",
        CheckpointException.tensor(Path.of("/m/x.safetensors"), "bad\nname", "unknown dtype 'Q4_K'").getMessage());
  }
}
