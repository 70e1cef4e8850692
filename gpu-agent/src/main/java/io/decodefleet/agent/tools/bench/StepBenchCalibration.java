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
    Map<String, List<StepCalibration.DecodePoint>> byPath = new LinkedHashMap<>();
    for (StepBench.DecodeRow d : r.decode()) {
      byPath.computeIfAbsent(d.path(), p -> new ArrayList<>())
          .add(new StepCalibration.DecodePoint(d.batch(), d.context(), d.wallUs()));
    }
    List<StepCalibration.PrefillPoint> prefill = r.prefill().stream()
        .map(p -> new StepCalibration.PrefillPoint(p.tokens(), p.ttftUs())).toList();
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    // Graph paths replay the graph of the batch's bucket: a batch runs padded up to it.
    byPath.forEach((path, points) -> tables.add(new StepCalibration.LayoutTable(1, path, path.contains("graph"), points,
        prefill)));
    List<String> notes = List.of("decode: wall time of one engine step, every sequence at the point's context; "
        + "prefill: wall time of one prompt from position 0 at batch 1", "device copy bandwidth "
        + String.format(java.util.Locale.ROOT, "%.2f GB/s", r.copyBytesPerUs() / 1e3) + " measured beside it");
    return new StepCalibration(StepCalibration.MEASURED, r.device(), backend, r.model(), 16, Instant.now().toString(),
        command, host, messageMicros, messageMicros, r.defaults(), tables, null, null, notes);
  }
}
