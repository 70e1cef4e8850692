/**
 * Benchmark metrics for DecodeFleet runs, defined as {@code vllm bench serve} defines them.
 *
 * <p>{@link io.decodefleet.coordinator.metrics.MetricsRecorder} follows each request on the
 * coordinator's clock ({@link System#nanoTime()}), {@link
 * io.decodefleet.coordinator.metrics.BenchmarkResult} holds the summary (latencies in
 * milliseconds, throughput per second), {@link io.decodefleet.coordinator.metrics.ReportJson}
 * writes report.json in the flat layout of {@code vllm bench serve --save-result}, and {@link
 * io.decodefleet.coordinator.metrics.ConsoleTable} prints the familiar result table.
 *
 * <p>A sweep runs the same workload at several world sizes: {@link
 * io.decodefleet.coordinator.metrics.SweepReport} holds one {@link
 * io.decodefleet.coordinator.metrics.SweepPoint} per world size, with goodput against the {@link
 * io.decodefleet.coordinator.metrics.SloSpec} SLOs and {@link
 * io.decodefleet.coordinator.metrics.ScalingEfficiency} from the smallest world size.
 */
package io.decodefleet.coordinator.metrics;
