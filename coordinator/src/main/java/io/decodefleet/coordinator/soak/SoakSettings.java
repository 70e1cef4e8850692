package io.decodefleet.coordinator.soak;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a soak is asked to do, checked by the command line.
 *
 * @param duration how long requests are sent and faults injected (the reference run before and the
 *     drain after come on top)
 * @param daemons gpu-agent daemons, one CPU agent each
 * @param coordinators coordinator-role {@code serve} nodes, 1 to 3 (2 or 3: the active one is killed once
 *     with SIGKILL)
 * @param faultInterval time between two faults
 * @param concurrency most requests outstanding at once
 * @param seed of the workload (prompts, lengths, APIs) and of the faults (which daemon, which signal)
 * @param reportDir where soak.json and every process's logs go
 */
public record SoakSettings(Duration duration, int daemons, int coordinators, Duration faultInterval,
    int concurrency, long seed, Path reportDir) {

  /** The model every node serves: small enough for CPU agents on a laptop. */
  static final String MODEL = "tiny";
}
