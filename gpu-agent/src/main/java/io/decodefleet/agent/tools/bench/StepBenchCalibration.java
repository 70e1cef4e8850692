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
    return of(Map.of(Replica.ONE, r), backend, host, messageMicros, command);
  }

  /**
   * What a result timed: one device, or a replica of {@code devices} ranks splitting the experts
   * ({@code expert}: ep=K) or the heads and MLP columns (tp=K).
   */
  public record Replica(int devices, boolean expert) {
    public static final Replica ONE = new Replica(1, false);

    public Replica {
      if (devices < 1) throw new IllegalArgumentException("devices must be >= 1, got " + devices);
      if (devices == 1 && expert) throw new IllegalArgumentException("an expert-parallel replica has 2 or more ranks");
    }

    /** "one backend", "tensor-parallel x2", "expert-parallel x2". */
    public String label() {
      return devices == 1 ? "one backend" : (expert ? "expert-parallel x" : "tensor-parallel x") + devices;
    }
  }

  /**
   * As {@link #of(StepBench.Result, String, StepCalibration.HostSharing, double, String)} with a table
   * per decode path for each replica timed. The first result's device, model and defaults describe the file.
   */
  public static StepCalibration of(Map<Replica, StepBench.Result> byReplica, String backend,
      StepCalibration.HostSharing host, double messageMicros, String command) {
    StepBench.Result r = byReplica.values().iterator().next();
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    byReplica.forEach((replica, result) -> tables.addAll(tables(result, replica)));
    List<String> notes = List.of("decode: wall time of one engine step, every sequence at the point's context; "
        + "prefill: wall time of one prompt from position 0 at batch 1 (with prompts: of that many prompts sharing "
        + "the tokens, in one step)", "device copy bandwidth "
        + String.format(java.util.Locale.ROOT, "%.2f GB/s", r.copyBytesPerUs() / 1e3) + " measured beside it");
    return new StepCalibration(StepCalibration.MEASURED, r.device(), backend, r.model(), 16, Instant.now().toString(),
        command, host, messageMicros, messageMicros, r.defaults(), tables, null, null, notes);
  }

  /** One result's tables, a decode path each, for {@code replica}. */
  private static List<StepCalibration.LayoutTable> tables(StepBench.Result r, Replica replica) {
    int devices = replica.devices();
    Map<String, List<StepCalibration.DecodePoint>> byPath = new LinkedHashMap<>();
    for (StepBench.DecodeRow d : r.decode()) {
      byPath.computeIfAbsent(d.path(), p -> new ArrayList<>())
          .add(new StepCalibration.DecodePoint(d.batch(), d.context(), d.wallUs()));
    }
    List<StepCalibration.PrefillPoint> prefill = r.prefill().stream()
        .map(p -> new StepCalibration.PrefillPoint(p.tokens(), p.ttftUs(), p.prompts())).toList();
    List<StepCalibration.LayoutTable> tables = new ArrayList<>();
    // Graph paths replay the graph of the batch's bucket: a batch runs padded up to it.
    byPath.forEach((path, points) -> tables.add(new StepCalibration.LayoutTable(devices, path, path.contains("graph"),
        points, prefill, replica.expert(), r.busyCores())));
    return tables;
  }
}
