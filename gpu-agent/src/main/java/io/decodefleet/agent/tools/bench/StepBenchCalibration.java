package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.calibration.StepCalibration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code bench step} result as a {@link StepCalibration}: per decode path one table of the decode
 * points' wall times (the engine thread's whole step: inputs, launches or host math, tokens back) and
 * the prefill points' times to first token. Wall time, not device time, because the engine waits for
 * each step's tokens before it schedules the next.
 */
public final class StepBenchCalibration {
  private StepBenchCalibration() {}

  /**
   * @param backend "cpu" or "cuda"
   * @param host the cores the agents of one host share (CPU: the bench's host, nothing else measured yet), or null
   * @param messageMicros one-way coordinator ↔ agent message time, for dispatch and reports
   * @param command the command line that measured it
   */
  public static StepCalibration of(StepBench.Result r, String backend, StepCalibration.HostSharing host,
      double messageMicros,
      String command) {
    return of(Map.of(1, r), backend, host, messageMicros, command);
  }

  /**
   * As {@link #of(StepBench.Result, String, StepCalibration.HostSharing, double, String)} with a table
   * per decode path for each replica size: 1 (one device) and K, an expert-parallel replica of K ranks.
   * The first result's device, model and defaults describe the file.
   */
  public static StepCalibration of(Map<Integer, StepBench.Result> byExpertParallel, String backend,
      StepCalibration.HostSharing host, double messageMicros, String command) {
    StepBench.Result r = byExpertParallel.values().iterator().next();
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    byExpertParallel.forEach((k, result) -> tables.addAll(tables(result, k)));
    List<String> notes = List.of("decode: wall time of one engine step, every sequence at the point's context; "
        + "prefill: wall time of one prompt from position 0 at batch 1", "device copy bandwidth "
        + String.format(java.util.Locale.ROOT, "%.2f GB/s", r.copyBytesPerUs() / 1e3) + " measured beside it");
    return new StepCalibration(StepCalibration.MEASURED, r.device(), backend, r.model(), 16, Instant.now().toString(),
        command, host, messageMicros, messageMicros, r.defaults(), tables, null, null, notes);
  }

  /** One result's tables, a decode path each, for replicas of {@code devices} (ep=K past 1). */
  private static List<StepCalibration.LayoutTable> tables(StepBench.Result r, int devices) {
    Map<String, List<StepCalibration.DecodePoint>> byPath = new LinkedHashMap<>();
    for (StepBench.DecodeRow d : r.decode()) {
      byPath.computeIfAbsent(d.path(), p -> new ArrayList<>())
          .add(new StepCalibration.DecodePoint(d.batch(), d.context(), d.wallUs()));
    }
    List<StepCalibration.PrefillPoint> prefill = r.prefill().stream()
        .map(p -> new StepCalibration.PrefillPoint(p.tokens(), p.ttftUs())).toList();
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    // Graph paths replay the graph of the batch's bucket: a batch runs padded up to it.
    byPath.forEach((path, points) -> tables.add(new StepCalibration.LayoutTable(devices, path, path.contains("graph"),
        points, prefill, devices > 1, r.busyCores())));
    return tables;
  }
}
