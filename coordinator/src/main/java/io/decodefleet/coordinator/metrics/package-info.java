/**
 * Benchmark metrics for DecodeFleet runs, defined as {@code vllm bench serve} defines them.
 *
 * <p>{@link io.decodefleet.coordinator.metrics.MetricsRecorder} follows each request on the
 * coordinator's clock ({@link System#nanoTime()}), {@link
 * io.decodefleet.coordinator.metrics.BenchmarkResult} holds the summary (latencies in
 * milliseconds, throughput per second), {@link io.decodefleet.coordinator.metrics.ReportJson}
 * writes report.json in the flat layout of {@code vllm bench serve --save-result}, and {@link
 * io.decodefleet.coordinator.metrics.ConsoleTable} prints the familiar result table.
 */
package io.decodefleet.coordinator.metrics;
