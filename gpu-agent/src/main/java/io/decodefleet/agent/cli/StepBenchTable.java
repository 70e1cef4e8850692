package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.GemmRate;
import io.decodefleet.agent.tools.bench.StepBench;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** The tables and the JSON of {@code gpu-agent bench step}. */
final class StepBenchTable {

  private StepBenchTable() {}

  /**
   * Device time per step by context, batch and path (x floor), then host time / idle gap, then prefill.
   * A backend without a device clock (the CPU) shows wall time instead.
   */
  static String render(StepBench.Result r) {
    Set<Integer> contexts = new TreeSet<>();
    Set<Integer> batches = new TreeSet<>();
    Set<String> paths = new LinkedHashSet<>();
    boolean device = false;
    for (StepBench.DecodeRow d : r.decode()) {
      contexts.add(d.context());
      batches.add(d.batch());
      paths.add(d.path());
      device |= Double.isFinite(d.gpuUs());
    }
    StringBuilder sb = new StringBuilder();
    sb.append(f("%nmodel %s on %s; copy %.2f TB/s, best %s GEMM %s %.0f TFLOP/s%n", r.model(), r.device(),
        r.copyBytesPerUs() / 1e6, GemmRate.kind(r.gemmShape()), r.gemmShape(), r.gemmFlopsPerUs() / 1e6));
    sb.append(device ? "decode step, device µs (x floor):\n" : "decode step, wall µs (x floor):\n");
    sb.append(f("%-6s %-6s %10s", "ctx", "batch", "floor"));
    for (String p : paths) {
      sb.append(f(" %20s", p));
    }
    sb.append('\n');
    for (int c : contexts) {
      for (int b : batches) {
        List<StepBench.DecodeRow> rows = rowsOf(r, c, b);
        if (rows.isEmpty()) continue;
        sb.append(f("%-6d %-6d %10.1f", c, b, rows.get(0).floorUs()));
        for (String p : paths) {
          StepBench.DecodeRow d = find(rows, p);
          double us = d == null ? Double.NaN : device ? d.gpuUs() : d.wallUs();
          sb.append(d == null ? f(" %20s", "-") : f(" %12.1f (x%.2f)", us, us / d.floorUs()));
        }
        sb.append('\n');
      }
    }
    if (device) {
      sb.append("host µs per step (inputs ready to last launch) / device idle gap µs between steps:\n");
      sb.append(f("%-6s %-6s %10s", "ctx", "batch", ""));
      for (String p : paths) {
        sb.append(f(" %20s", p));
      }
      sb.append('\n');
      for (int c : contexts) {
        for (int b : batches) {
          List<StepBench.DecodeRow> rows = rowsOf(r, c, b);
          if (rows.isEmpty()) continue;
          sb.append(f("%-6d %-6d %10s", c, b, ""));
          for (String p : paths) {
            StepBench.DecodeRow d = find(rows, p);
            sb.append(d == null ? f(" %20s", "-") : f(" %11.1f / %6.1f", d.hostUs(), d.gapUs()));
          }
          sb.append('\n');
        }
      }
    }
    sb.append("prefill, one prompt at batch 1 (or several sharing the tokens in one step):\n");
    sb.append(f("%-22s %12s %12s %12s %8s %12s %12s%n", "tokens", "TTFT µs", "device µs", "floor µs", "x floor",
        "host µs", "idle gap µs"));
    for (StepBench.PrefillRow p : r.prefill()) {
      sb.append(f("%-22s %12.1f %12.1f %12.1f %8.2f %12s %12s%n", p.label(), p.ttftUs(), p.gpuUs(), p.floorUs(),
          p.ttftUs() / p.floorUs(), cell(p.hostUs()), cell(p.gapUs())));
    }
    return sb.toString();
  }

  static String json(StepBench.Result r) {
    StringBuilder sb = new StringBuilder("{\n");
    sb.append(f("  \"date\": \"%s\",%n  \"device\": \"%s\",%n  \"model\": \"%s\",%n", Instant.now(),
        esc(r.device()), r.model()));
    // A rate the backend has none of (the CPU's tensor-core rate) is null: NaN is not JSON.
    sb.append(f("  \"copy_tb_per_s\": %s,%n  \"gemm_tflop_per_s\": %s,%n  \"gemm_shape\": \"%s\",%n",
        fixed(r.copyBytesPerUs() / 1e6, "%.4f"), fixed(r.gemmFlopsPerUs() / 1e6, "%.2f"), r.gemmShape()));
    sb.append(f("  \"weight_bytes_read_per_step\": %d,%n  \"loads\": {", r.weightBytesRead()));
    List<String> loads = new ArrayList<>();
    r.loads().forEach((k, v) -> loads.add(f("\"%s\": \"%s\"", k, esc(v))));
    sb.append(String.join(", ", loads)).append("},\n  \"decode\": [\n");
    for (int i = 0; i < r.decode().size(); i++) {
      StepBench.DecodeRow d = r.decode().get(i);
      sb.append(f("    {\"batch\": %d, \"context\": %d, \"path\": \"%s\", \"ran_as\": \"%s\", \"gpu_us\": %s,"
              + " \"wall_us\": %s, \"host_us\": %s, \"idle_gap_us\": %s, \"floor_us\": %s%s%s}%s%n", d.batch(),
          d.context(), d.path(), d.ranAs(),
          num(d.gpuUs()), num(d.wallUs()), num(d.hostUs()), num(d.gapUs()), num(d.floorUs()), profile(d.profile()),
          hostParts(d.hostPartsUs()), i + 1 < r.decode().size() ? "," : ""));
    }
    sb.append("  ],\n  \"prefill\": [\n");
    for (int i = 0; i < r.prefill().size(); i++) {
      StepBench.PrefillRow p = r.prefill().get(i);
      sb.append(f("    {\"tokens\": %d, \"prompts\": %d, \"ttft_us\": %s, \"gpu_us\": %s, \"floor_us\": %s,"
              + " \"flops\": %s, \"host_us\": %s, \"idle_gap_us\": %s%s}%s%n", p.tokens(), p.prompts(), num(p.ttftUs()),
          num(p.gpuUs()),
          num(p.floorUs()), num(p.flops()), num(p.hostUs()), num(p.gapUs()), profile(p.profile()),
          i + 1 < r.prefill().size() ? "," : ""));
    }
    return sb.append("  ]\n}\n").toString();
  }

  /** ", \"profile\": {...}" of a profiled point: the step and each family's µs and floor; "" otherwise. */
  private static String profile(io.decodefleet.agent.engine.StepProfile p) {
    if (p == null) return "";
    List<String> families = new ArrayList<>();
    for (io.decodefleet.agent.engine.KernelFamily k : io.decodefleet.agent.engine.KernelFamily.ALL) {
      families.add(f("\"%s\": {\"us\": %s, \"floor_us\": %s}", k.key(), num(p.familyMicros().get(k.ordinal())),
          num(p.floorMicros().get(k.ordinal()))));
    }
    return f(", \"profile\": {\"step_us\": %s, \"families\": {%s}}", num(p.stepMicros()), String.join(", ", families));
  }

  /** ", \"host_parts_us\": {...}" of a graph-replayed point (HostParts.NAMES, medians); "" otherwise. */
  static String hostParts(double[] us) {
    if (us == null) return "";
    List<String> parts = new ArrayList<>();
    for (int k = 0; k < us.length; k++) {
      parts.add(f("\"%s\": %s", io.decodefleet.agent.backend.cuda.HostParts.NAMES.get(k).replace(' ', '_'), num(us[k])));
    }
    return f(", \"host_parts_us\": {%s}", String.join(", ", parts));
  }

  private static List<StepBench.DecodeRow> rowsOf(StepBench.Result r, int context, int batch) {
    return r.decode().stream().filter(d -> d.context() == context && d.batch() == batch).toList();
  }

  private static StepBench.DecodeRow find(List<StepBench.DecodeRow> rows, String path) {
    return rows.stream().filter(d -> d.path().equals(path)).findFirst().orElse(null);
  }

  /** "12.3", or "-" for a time the backend does not have (no device clock). */
  private static String cell(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "-";
  }

  private static String fixed(double v, String format) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "null";
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "null";
  }

  private static String esc(String s) {
    return s.replace("\\", "\\\\").replace("\"", "'");
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
