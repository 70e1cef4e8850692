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
 * <p>A sweep runs the same workload at several points of one {@link
 * io.decodefleet.coordinator.metrics.SweepAxis}: world sizes in process, request rates or
 * concurrencies against an OpenAI endpoint. {@link io.decodefleet.coordinator.metrics.SweepReport}
 * holds one {@link io.decodefleet.coordinator.metrics.SweepPoint} per point, with goodput against
 * the {@link io.decodefleet.coordinator.metrics.SloSpec} SLOs and, across world sizes, {@link
 * io.decodefleet.coordinator.metrics.ScalingEfficiency} from the smallest one.
 */
package io.decodefleet.coordinator.metrics;
