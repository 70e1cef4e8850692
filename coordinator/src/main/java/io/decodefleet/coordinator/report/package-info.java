/**
 * The report directory of a sweep and the regression verdicts against expectations.
 *
 * <p>{@link io.decodefleet.coordinator.report.ReportWriter} writes report.json, results.csv,
 * requests.csv and four PNG charts for a {@link io.decodefleet.coordinator.metrics.SweepReport};
 * {@link io.decodefleet.coordinator.report.Expectations} reads an expectations file, compares a
 * sweep with it (improved / met / regressed / missing per metric) and can raise the expectations
 * to improved results; {@link io.decodefleet.coordinator.report.VerdictTable} prints the verdicts.
 * {@link io.decodefleet.coordinator.report.RuntimeVersions} names the software a report came from.
 */
package io.decodefleet.coordinator.report;
