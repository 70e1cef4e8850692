package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.calibration.CalibrationTerms;
import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.tools.bench.KvTransferBench.Row;
import io.decodefleet.agent.tools.bench.KvTransferBench.Timing;
import io.decodefleet.agent.tools.bench.KvTransferBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent bench kv-transfer}: one sequence's KV moved between two local GPUs the way the
 * disaggregated layout moves it, eager and as a CUDA graph, with NCCL alone beside it. Exit 0
 * after a run where every variant ran and every transfer's pages checked out, 1 otherwise (or
 * without NCCL), 2 on bad arguments, 3 without two GPUs.
 */
@Command(name = "kv-transfer", mixinStandardHelpOptions = true,
    description = {"Moves one sequence's KV pages (every layer, K and V, a scattered block table on each side)"
        + " from one GPU to another: pack kernel + NCCL send, NCCL receive + unpack kernel, in chunks of up to"
        + " 256 MiB; eager launches and a captured CUDA graph. Before timing, the receiver's pages are compared with"
        + " the sender's. Prints per context: median transfer time (the shorter side's CUDA-event time per"
        + " repetition), GB/s, host time to enqueue the send, and the same bytes through NCCL send/recv alone."})
public final class BenchKvTransferCommand implements Callable<Integer> {

  @Option(names = "--model", defaultValue = "llama3-8b", description = "Model whose KV shape is moved"
      + " (default: ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--contexts", split = ",", paramLabel = "TOKENS", description = "Sequence lengths in tokens"
      + " (default: 512,2048,8192).")
  private List<Integer> contexts;

  @Option(names = "--gpus", split = ",", paramLabel = "INDEX", description = "Sender and receiver GPU"
      + " (default: 0,1).")
  private List<Integer> gpus;

  @Option(names = "--block-size", defaultValue = "16", description = "KV block size in tokens"
      + " (default: ${DEFAULT-VALUE}).")
  private int blockSize;

  @Option(names = "--warmup", defaultValue = "5", description = "Untimed transfers per point (default:"
      + " ${DEFAULT-VALUE}).")
  private int warmup;

  @Option(names = "--reps", defaultValue = "50", description = "Timed transfers per point; the median is reported"
      + " (default: ${DEFAULT-VALUE}).")
  private int reps;

  @Option(names = "--timeout", defaultValue = "60", paramLabel = "SECONDS", description = "Limit for the group to"
      + " form and for each transfer; past it the group is aborted (default: ${DEFAULT-VALUE}).")
  private int timeoutSeconds;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
  private Path outFile;

  @Option(names = "--calibration", paramLabel = "FILE.json", description = "Write the kv_transfer term fitted to "
      + "the graph-mode transfers (latency + bytes / rate) into this calibration (from bench step "
      + "--calibration-out), for coordinator simulate --layout disagg=P:D.")
  private Path calibration;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    KvTransferBench.Settings settings;
    try {
      settings = new KvTransferBench.Settings(ModelConfig.preset(model),
          contexts != null ? contexts : KvTransferBench.DEFAULT_CONTEXTS, blockSize, warmup, reps,
          Duration.ofSeconds(timeoutSeconds));
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent bench kv-transfer: " + e.getMessage());
      return 2;
    }
    if (calibration != null && CalibrationTerms.unwritable(calibration) != null) {
      out.println("gpu-agent bench kv-transfer: --calibration " + CalibrationTerms.unwritable(calibration));
      return 2;
    }
    List<Integer> pair = gpus != null ? gpus : List.of(0, 1);
    if (pair.size() != 2 || pair.get(0).equals(pair.get(1))) {
      out.println("gpu-agent bench kv-transfer: --gpus must name two different GPUs, sender first");
      return 2;
    }
    DevicePreflight.Multi preflight = DevicePreflight.multi("gpu-agent bench kv-transfer", out, pair, 2, true);
    if (preflight.gpus() == null) return preflight.exitCode();
    GpuInfo a = preflight.gpus().get(0);
    GpuInfo b = preflight.gpus().get(1);
    try {
      String version = Nccl.versionText(Nccl.version());
      out.println("NCCL " + version + ", " + settings.model().name() + " KV (" + settings.model().numHiddenLayers()
          + " layers, " + settings.model().kvBytesPerToken(2) / 1024 + " KiB per token, blocks of " + blockSize
          + "), GPU " + a.index() + " -> GPU " + b.index() + ", median of " + reps + " after " + warmup + " warm-up");
      out.println("  " + a.summary());
      out.println("  " + b.summary());
      List<Row> rows = KvTransferBench.run(a, b, settings, line -> {
        out.println(line);
        out.flush();
      });
      out.print(table(rows));
      boolean ok = rows.stream().allMatch(r -> r.eager().failure() == null && r.graph().failure() == null
          && r.ncclOnly().failure() == null && r.eager().verified() && r.graph().verified());
      out.println(ok ? "values checked before timing: the receiver's pages equal the sender's, every layer, K and V,"
          + " both modes" : "gpu-agent bench kv-transfer: some variants failed (see the table)");
      if (outFile != null) {
        ResultFile.write(outFile, json(a, b, version, settings, rows));
        out.println("wrote " + outFile);
      }
      if (calibration != null && ok) {
        List<double[]> points = new java.util.ArrayList<>();
        for (Row r : rows) points.add(new double[] {r.bytes(), r.graph().ms() * 1e3});
        StepCalibration.KvTransferCost kv = CalibrationTerms.kvTransfer(points, settings.model().kvBytesPerToken(2));
        CalibrationTerms.write(calibration, kv);
        out.printf(Locale.ROOT, "wrote kv_transfer (latency_us %.1f, bytes_per_us %.0f, bytes_per_token %d) into %s%n",
            kv.latencyMicros(), kv.bytesPerMicro(), kv.bytesPerToken(), calibration);
      }
      return ok ? 0 : 1;
    } catch (RuntimeException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      out.println("gpu-agent bench kv-transfer: " + m.replaceAll("\\s*\\R\\s*", " "));
      return 1;
    }
  }

  static String table(List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "%8s %7s %9s | %9s %8s %8s | %9s %8s %8s | %7s | %9s %8s%n", "context", "pages", "MiB", "eager ms", "GB/s",
        "host us", "graph ms", "GB/s", "host us", "g/e", "NCCL ms", "GB/s"));
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%8d %7d %9.1f | %s | %s | %7s | %s%n", r.context(), r.pages(),
          r.bytes() / 1048576.0, cells(r.eager(), r.bytes(), true), cells(r.graph(), r.bytes(), true),
          ratio(r.graph().ms(), r.eager().ms()), cells(r.ncclOnly(), r.bytes(), false)));
    }
    for (Row r : rows) {
      for (Timing t : List.of(r.eager(), r.graph(), r.ncclOnly())) {
        if (t.failure() != null) {
          sb.append("  ").append(r.context()).append(" tokens: ").append(t.failure()).append('\n');
          break;
        }
      }
    }
    return sb.toString();
  }

  private static String cells(Timing t, long bytes, boolean host) {
    if (t.failure() != null) return host ? String.format(Locale.ROOT, "%9s %8s %8s", "failed", "-", "-")
        : String.format(Locale.ROOT, "%9s %8s", "failed", "-");
    return host ? String.format(Locale.ROOT, "%9.3f %8.1f %8.1f", t.ms(), t.gbPerSecond(bytes), t.hostUs())
        : String.format(Locale.ROOT, "%9.3f %8.1f", t.ms(), t.gbPerSecond(bytes));
  }

  private static String ratio(double graph, double eager) {
    return Double.isFinite(graph) && Double.isFinite(eager) && eager > 0
        ? String.format(Locale.ROOT, "%.3f", graph / eager) : "-";
  }

  static String json(GpuInfo a, GpuInfo b, String version, KvTransferBench.Settings s, List<Row> rows) {
    StringBuilder sb = new StringBuilder("{\n");
    sb.append("  \"date\": \"").append(Instant.now()).append("\",\n");
    sb.append("  \"nccl\": \"").append(version).append("\",\n");
    sb.append("  \"sender\": \"").append(a.summary().replace("\"", "'")).append("\",\n");
    sb.append("  \"receiver\": \"").append(b.summary().replace("\"", "'")).append("\",\n");
    sb.append(String.format(Locale.ROOT, "  \"model\": \"%s\", \"block_size\": %d, \"warmup\": %d, \"reps\": %d,%n",
        s.model().name(), s.blockSize(), s.warmup(), s.reps()));
    sb.append("  \"time\": \"per repetition the shorter of the two sides' CUDA-event times, median\",\n");
    sb.append("  \"results\": [\n");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      sb.append(String.format(Locale.ROOT, "    {\"context\": %d, \"pages\": %d, \"bytes\": %d, \"eager\": %s,"
          + " \"graph\": %s, \"nccl_only\": %s}%s%n", r.context(), r.pages(), r.bytes(), json(r.eager(), r.bytes()),
          json(r.graph(), r.bytes()), json(r.ncclOnly(), r.bytes()), i + 1 < rows.size() ? "," : ""));
    }
    sb.append("  ]\n}\n");
    return sb.toString();
  }

  private static String json(Timing t, long bytes) {
    if (t.failure() != null) {
      return "{\"failure\": \"" + t.failure().replace("\\", "\\\\").replace("\"", "'") + "\"}";
    }
    return String.format(Locale.ROOT, "{\"ms\": %.5f, \"gb_per_s\": %.2f, \"send_ms\": %.5f, \"receive_ms\": %.5f,"
        + " \"host_us\": %.2f, \"verified\": %b}", t.ms(), t.gbPerSecond(bytes), t.sendMs(), t.receiveMs(),
        t.hostUs(), t.verified());
  }
}
