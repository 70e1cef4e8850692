package io.decodefleet.coordinator.cli;

import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.protocol.ModelSpec;
import io.decodefleet.coordinator.BenchmarkSpec;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.EmbeddedCluster;
import io.decodefleet.coordinator.RunOutcome;
import io.decodefleet.coordinator.RunReports;
import io.decodefleet.coordinator.metrics.ConsoleTable;
import io.decodefleet.coordinator.metrics.RunReport;
import io.decodefleet.coordinator.workload.RequestSpec;
import io.decodefleet.coordinator.workload.SyntheticWorkload;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** The embedded default: start agents on this machine, run the workload, write and print the report. */
final class EmbeddedRun {
  /** KV memory of each embedded CPU agent when --kv-blocks is 0. */
  static final long CPU_KV_BYTES = 32L << 20;

  private final RunSettings s;
  private final String command;

  EmbeddedRun(RunSettings settings, String args) {
    this.s = settings;
    this.command = ("coordinator " + args).trim();
  }

  int run() {
    List<RequestSpec> requests = SyntheticWorkload.generate(s.numRequests(), s.promptLen(), s.outputLen(),
        s.model().vocabSize(), s.seed());
    ModelSpec model = new ModelSpec(s.model().name(), s.seed(), s.blockSize(), s.kvBlocks(), s.maxNumSeqs(),
        s.maxBatchedTokens(), s.verifyFraction());
    Duration timeout = Duration.ofSeconds(s.agentTimeoutSeconds());
    BenchmarkSpec spec = new BenchmarkSpec(s.worldSize(), model, requests, s.placement(), 0, timeout);
    String startedAt = java.time.OffsetDateTime.now().toString();
    if (!s.quiet()) {
      System.out.println("DecodeFleet: embedded cluster of " + s.worldSize() + " CPU agents (no GPU backend yet), model "
          + s.model().name() + ", " + s.numRequests() + " requests");
    }
    RunOutcome outcome;
    try (EmbeddedCluster cluster = EmbeddedCluster.start(s.worldSize(), ConfigFactory.empty(), CPU_KV_BYTES)) {
      CompletionStage<RunOutcome> reply = AskPattern.ask(cluster.coordinator(),
          replyTo -> new Coordinator.RunBenchmark(spec, null, replyTo), Duration.ofHours(24),
          cluster.coordinatorSystem().scheduler());
      outcome = reply.toCompletableFuture().get(24, TimeUnit.HOURS);
    } catch (Exception e) {
      System.err.println("coordinator: the run did not complete: " + e);
      return 1;
    }
    if (outcome.error() != null) {
      System.err.println("coordinator: " + outcome.error());
      return 1;
    }
    RunReport report = RunReports.build(command, settingsMap(), "cpu", s.model().name(), s.worldSize(), outcome,
        startedAt);
    Path dir = s.reportDir() != null ? s.reportDir()
        : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    try {
      Path file = RunReports.write(report, outcome, dir);
      if (!s.quiet()) System.out.print(ConsoleTable.render(report));
      if (outcome.verification() != null && !s.quiet()) {
        System.out.println("Verification: " + RunReports.describeVerification(outcome.verification()));
      }
      System.out.println("report: " + file);
    } catch (IOException e) {
      System.err.println("coordinator: cannot write the report to " + dir + ": " + e.getMessage());
      return 1;
    }
    if (!outcome.succeeded()) {
      System.err.println("coordinator: " + RunReports.describeFailure(outcome));
      return 1;
    }
    return 0;
  }

  private Map<String, Object> settingsMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("world_size", s.worldSize());
    m.put("model", s.model().name());
    m.put("backend", "cpu");
    m.put("num_requests", s.numRequests());
    m.put("prompt_len", s.promptLen().toString());
    m.put("output_len", s.outputLen().toString());
    m.put("arrivals", "all at once");
    m.put("placement", s.placement());
    m.put("seed", s.seed());
    m.put("block_size", s.blockSize());
    m.put("kv_blocks", s.kvBlocks());
    m.put("max_num_seqs", s.maxNumSeqs());
    m.put("max_batched_tokens", s.maxBatchedTokens());
    m.put("verify_fraction", s.verifyFraction());
    return m;
  }
}
