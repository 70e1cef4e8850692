package io.decodefleet.coordinator.metrics;

/**
 * report.json's "kv_transfers": the KV transfers of one run (disaggregated hand-offs and drain
 * migrations). Times in ms, sizes in bytes; a mean over no sample is null, a latency statistic over
 * none is 0 (as {@link LatencyStats} has it).
 *
 * @param layout e.g. "disagg=1:1", or "dp"
 * @param mode "eager" or "graph"
 * @param group "forming", "ready", or "broken: why"
 * @param meanMs per transfer the shorter of the sender's and receiver's event times: mean, p50, p99, max
 * @param gbPerS bytes over the summed transfer time, GB/s (1e9 bytes); null when none was timed
 * @param meanHandoffMs hand-off latency on the coordinator's clock (KvReady, or the drain decision, to the
 *     receiver's report): mean, p50, p99
 * @param recomputed receivers without free KV blocks that re-prefilled instead
 * @param migrations drained agents' sequences moved with their KV and decoded from it on arrival
 * @param timeIs what the times measure, in words
 */
public record KvTransferSummary(String layout, String mode, String group, int count, long bytes, long meanBytes,
    double meanMs, double p50Ms, double p99Ms, double maxMs, Double gbPerS, Double meanSendMs,
    Double meanReceiveMs, double meanHandoffMs, double p50HandoffMs, double p99HandoffMs, long recomputed,
    long handoffs, long migrations, long migrationBytes, Double meanMigrationMs, Double meanMigrationWaitMs,
    String timeIs) {}
