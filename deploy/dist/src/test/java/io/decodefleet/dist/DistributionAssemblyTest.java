package io.decodefleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DistributionAssemblyTest {

  private static final String[] COMPLETE = {"--jdk=/jdk", "--classpath=/t/cp.txt", "--launchers=/src/bin",
      "--staging=/t/staging", "--name=decodefleet-1.0", "--xz-preset=6", "--xz-threads=2", "--out=/t/d.tar.xz"};

  @Test
  void completeArgumentsParseIntoOptions() {
    DistributionAssembly.Options options = DistributionAssembly.Options.parse(COMPLETE);

    assertEquals(new DistributionAssembly.Options(Path.of("/jdk"), Path.of("/t/cp.txt"), Path.of("/src/bin"),
        Path.of("/t/staging"), "decodefleet-1.0", 6, 2, Path.of("/t/d.tar.xz")), options);
  }

  @Test
  void missingOptionIsNamed() {
    String[] args = java.util.Arrays.copyOf(COMPLETE, COMPLETE.length - 1);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DistributionAssembly.Options.parse(args));
    assertEquals("--out is missing", e.getMessage());
  }

  @Test
  void nonNumericPresetIsNamed() {
    String[] args = COMPLETE.clone();
    args[5] = "--xz-preset=max";

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DistributionAssembly.Options.parse(args));
    assertEquals("--xz-preset must be an integer, got max", e.getMessage());
  }
}
