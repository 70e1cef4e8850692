package io.decodefleet.coordinator.cli;

import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.coordinator.workload.LengthRange;
import java.nio.file.Path;

/** The coordinator's validated command-line settings. */
record RunSettings(int worldSize, ModelConfig model, int numRequests, LengthRange promptLen, LengthRange outputLen,
    String placement, long seed, Path reportDir, double verifyFraction, int blockSize, int kvBlocks, int maxNumSeqs,
    int maxBatchedTokens, int agentTimeoutSeconds, boolean quiet) {}
