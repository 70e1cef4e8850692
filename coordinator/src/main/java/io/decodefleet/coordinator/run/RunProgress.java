package io.decodefleet.coordinator.run;

/** A benchmark's progress, sent while it runs (at most every {@code BenchmarkRun.PROGRESS_INTERVAL}). */
public record RunProgress(int worldSize, int completed, int failed, int total, long outputTokens, long elapsedNanos) {}
