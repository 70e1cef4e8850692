package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.client.EndpointSession;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.PercentileSpec;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.node.ClusterOptions;
import io.decodefleet.coordinator.placement.PlacementPolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code coordinator}: runs a decode benchmark on a DecodeFleet cluster — at one world size or a sweep
 * of them — and reports TTFT, TPOT, ITL, E2E and throughput. With no seed nodes it starts the embedded
 * default (agents on this machine); {@code coordinator serve} serves the gRPC API instead. With
 * {@code --endpoint} (client mode) the same workload runs against any OpenAI-compatible server, swept
 * over request rates or concurrencies, into the same reports.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true, version = "DecodeFleet 0.1.0",
    sortOptions = false, subcommands = {ServeCommand.class, SoakCommand.class},
    description = "Runs an LLM decode benchmark across a fleet of agents and reports TTFT, TPOT, ITL, "
        + "E2E latency and throughput.")
public final class CoordinatorCli implements Callable<Integer> {

  @Option(names = "--world-size", description = "GPUs (or CPU slots) that serve the run: one agent each, or one "
      + "agent per K of them with --layout tp=K (default: ${DEFAULT-VALUE}).")
  int worldSize = 8;

  @Option(names = "--world-sizes", split = ",", description = "Sweep: run the same workload at each of these world "
      + "sizes (e.g. 1,2,4,8), reusing the cluster; overrides --world-size.")
  List<Integer> worldSizes;

  @Option(names = "--layout", paramLabel = "LAYOUT", description = "How the agents share each sequence: dp (every "
      + "agent a full replica), tp=K (tensor parallelism: each replica spans K GPUs of one node, heads and MLP "
      + "split, an NCCL all-reduce after attention and after the MLP; world sizes multiples of K), ep=K (a mixture "
      + "of experts' experts spread over K CPU ranks per replica, attention data-parallel) or disagg=P:D (P "
      + "prefill agents, then D decode agents, by agent id: each prefilled sequence's KV moves over NCCL to a "
      + "decode agent; CUDA agents, --world-size P+D) (default: ${DEFAULT-VALUE}).")
  String layout = "dp";

  @Option(names = "--kv-transfer", paramLabel = "MODE", description = "With --layout disagg: how each KV transfer "
      + "runs on the GPU, eager (pack, send / receive, unpack launched one by one) or graph (a CUDA graph captured "
      + "per page count) (default: eager).")
  String kvTransfer;

  @Option(names = "--placement", description = "least-loaded (free KV blocks), round-robin, or prefix-aware (the "
      + "agent whose prefix cache saves the most prefill, net of load; prefix-aware:W weighs load by W, default 1) "
      + "(default: ${DEFAULT-VALUE}).")
  String placement = PlacementPolicy.DEFAULT;

  @Option(names = "--seed", description = "Seed of the workload and the dummy weights; with --endpoint, of the "
      + "workload (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Mixin
  WorkloadOptions workload = new WorkloadOptions();

  @Mixin
  EngineOptions engine = new EngineOptions();

  @Mixin
  EndpointOptions client = new EndpointOptions();

  @Option(names = "--report-dir", description = "Where report.json, results.csv, requests.csv and the charts go "
      + "(default: runs/<timestamp>).")
  Path reportDir;

  @Option(names = "--goodput", arity = "1..*", description = "SLOs for goodput, e.g. --goodput ttft:500 tpot:50 "
      + "itl:200 e2el:2000 (ms; itl bounds a request's largest gap between tokens); a request counts only if it "
      + "meets every one.")
  List<String> goodput;

  @Option(names = "--percentile-metrics", paramLabel = "METRICS", description = "Latency metrics that get "
      + "percentiles, comma-separated, of ttft, tpot, itl, e2el (default: ttft,tpot,itl,e2el; vLLM's default is "
      + "ttft,tpot,itl). Every metric has its mean, std and median.")
  String percentileMetrics;

  @Option(names = "--metric-percentiles", paramLabel = "P", description = "The percentiles of those metrics, "
      + "comma-separated, each in [0, 100], e.g. 50,90,95,99 (default: 90,99, what DecodeFleet has always "
      + "reported; vLLM's default is 99).")
  String metricPercentiles;

  @Option(names = "--expectations", description = "Compare the results with this expectations file; exit 1 on any "
      + "regression.")
  Path expectations;

  @Option(names = "--update-expectations", description = "Write improved values back into the expectations file.")
  boolean updateExpectations;

  @Option(names = "--verify", description = "Check the KV-cached decode against a full recompute for a sample of "
      + "sequences; the run fails if any differs.")
  boolean verify;

  @Option(names = "--verify-fraction", description = "Fraction of sequences --verify checks (default: ${DEFAULT-VALUE}).")
  double verifyFraction = 0.25;

  @Option(names = "--verify-against", paramLabel = "BACKEND", description = "Instead of a benchmark: check the CUDA "
      + "backend on GPU 0 against this backend (cpu) on --model and --seed, every decode path (gpu-agent parity); "
      + "needs --world-size 1.")
  String verifyAgainst;

  @Mixin
  ClusterOptions cluster = new ClusterOptions();

  @Option(names = "--quiet", description = "Print only the path of the report.")
  boolean quiet;

  @Option(names = "--log-format", paramLabel = "FORMAT", scope = CommandLine.ScopeType.INHERIT,
      description = "Logs on stderr as text (logback.xml's pattern) or json: one object per line by logback's "
          + "JsonEncoder, a request's lines with its request_id in the MDC (env DECODEFLEET_LOG_FORMAT; default text).")
  String logFormat;

  String[] originalArgs = new String[0];

  /** The process environment (tests give their own): the cluster store passwords' variables. */
  Map<String, String> environment = System.getenv();

  /** --percentile-metrics and --metric-percentiles, checked by {@link #checkPercentiles}. */
  PercentileSpec percentiles = PercentileSpec.DEFAULT;

  @Spec
  CommandSpec spec;

  /** Every option checked; the message of a UsageError is the one line the user sees. */
  BenchmarkSession session() {
    List<Integer> sizes = worldSizes != null ? worldSizes : List.of(worldSize);
    if (sizes.isEmpty()) throw new UsageError("--world-sizes is empty");
    Set<Integer> seen = new HashSet<>();
    for (int n : sizes) {
      String option = worldSizes != null ? "--world-sizes" : "--world-size";
      if (n < 1) throw new UsageError(option + " must be >= 1, got " + n);
      if (!seen.add(n)) throw new UsageError("--world-sizes lists " + n + " twice");
    }
    try {
      PlacementPolicy.named(placement);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--placement: " + e.getMessage());
    }
    ParallelLayout parallel = parallelLayout(sizes);
    if (!(verifyFraction > 0 && verifyFraction <= 1)) {
      throw new UsageError("--verify-fraction must be in (0, 1], got " + verifyFraction);
    }
    checkPercentiles();
    SloSpec slos = SloSpec.NONE;
    if (goodput != null) {
      try {
        slos = SloSpec.parse(goodput);
      } catch (IllegalArgumentException e) {
        throw new UsageError("--goodput: " + e.getMessage());
      }
    }
    if (updateExpectations && expectations == null) {
      throw new UsageError("--update-expectations needs --expectations FILE");
    }
    if (expectations != null && !java.nio.file.Files.isRegularFile(expectations) && !updateExpectations) {
      throw new UsageError("--expectations: no such file " + expectations);
    }
    try {
      cluster.validate(environment);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
    var model = engine.spec(seed, verify ? verifyFraction : 0.0);
    // The model's context is known now; the fleet's KV pools once it is loaded (BenchmarkSession checks again).
    LengthLimit context = WorkloadOptions.contextLimit(engine.config());
    return new BenchmarkSession(this, new ArrayList<>(sizes), model, workload.requests(engine.config(), seed, context),
        context, slos, parallel);
  }

  /** Parses --percentile-metrics and --metric-percentiles into {@link #percentiles}. */
  void checkPercentiles() {
    try {
      percentiles = PercentileSpec.parse(percentileMetrics, metricPercentiles);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  /** --layout and --kv-transfer, checked against the world size(s). */
  private ParallelLayout parallelLayout(List<Integer> sizes) {
    KvTransferMode mode;
    try {
      mode = KvTransferMode.parse(kvTransfer == null ? "eager" : kvTransfer);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--kv-transfer must be eager or graph, got '" + kvTransfer + "'");
    }
    ParallelLayout parsed;
    try {
      parsed = ParallelLayout.parse(layout, mode);
    } catch (IllegalArgumentException e) {
      throw new UsageError("--layout " + e.getMessage());
    }
    if (parsed.agents() == 0) {
      if (kvTransfer != null) throw new UsageError("--kv-transfer applies to --layout disagg=P:D only");
      int k = parsed.tensorParallel();
      for (int size : sizes) {
        if (size % k != 0) {
          throw new UsageError("--layout " + parsed.label() + " needs world sizes that are multiples of " + k
              + " (GPUs per replica), got " + size);
        }
      }
      return parsed;
    }
    if (sizes.size() != 1 || sizes.get(0) != parsed.agents()) {
      throw new UsageError("--layout " + parsed.label() + " needs --world-size " + parsed.agents() + " (P + D agents), "
          + "got " + (worldSizes != null ? "--world-sizes " + worldSizes : String.valueOf(sizes.get(0))));
    }
    return parsed;
  }

  @Override
  public Integer call() {
    ParseResult parsed = spec.commandLine().getParseResult();
    if (client.wanted(parsed)) return runAgainstEndpoint(parsed);
    if (verifyAgainst != null) {
      if (!verifyAgainst.equals("cpu") || worldSize != 1 || worldSizes != null) {
        System.err.println("coordinator: --verify-against takes cpu and --world-size 1");
        return 2;
      }
      return io.decodefleet.agent.cli.GpuAgentCli.run("parity", "--model", engine.model, "--seed",
          String.valueOf(seed));
    }
    BenchmarkSession session;
    try {
      session = session();
    } catch (UsageError e) {
      System.err.println("coordinator: " + e.getMessage());
      return 2;
    }
    return session.run();
  }

  /** Client mode: the workload against --endpoint, then the same reports as in process. */
  private int runAgainstEndpoint(ParseResult parsed) {
    EndpointSession session;
    SloSpec slos;
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    try {
      slos = goodput == null ? SloSpec.NONE : SloSpec.parse(goodput);
    } catch (IllegalArgumentException e) {
      System.err.println("coordinator: --goodput: " + e.getMessage());
      return 2;
    }
    try {
      checkPercentiles();
      session = client.session(parsed, workload, engine.config(), seed, settings);
    } catch (UsageError e) {
      System.err.println("coordinator: " + e.getMessage());
      return 2;
    }
    try {
      List<String> warnings = new ArrayList<>();
      String unreachable = session.endpoint().unreachable(warnings);
      warnings.forEach(w -> System.err.println("coordinator: warning: " + w));
      if (unreachable != null) {
        System.err.println("coordinator: " + unreachable);
        return 1;
      }
      if (!quiet) System.out.println("DecodeFleet client mode: " + session.description().url() + ", served model "
          + session.description().servedModel());
      int skipped = settings.path("overlength_skipped").asInt();
      if (!quiet && skipped > 0) {
        System.out.println("DecodeFleet: --on-overlength skip left out " + skipped + " requests whose prompt plus "
            + "output exceed model " + engine.config().name() + "'s context");
      }
      SweepReport report = session.run(("coordinator " + String.join(" ", originalArgs)).trim(), settings, slos,
          line -> {
            if (!quiet) System.out.println(line);
          });
      return new SweepOutput(this).writeAndPrint(report);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("coordinator: interrupted");
      return 1;
    }
  }

  /** Parses and runs; returns the exit code (0 ok, 1 run failed or regressed, 2 bad arguments). */
  public static int run(String... args) {
    return run(System.getenv(), args);
  }

  /**
   * Parses and runs with {@code environment} as the process environment. A renamed option or
   * environment variable is refused first (exit code 2), so an old command line or manifest fails
   * loudly instead of listening on the wrong port.
   */
  static int run(Map<String, String> environment, String... args) {
    CoordinatorCli cli = new CoordinatorCli();
    cli.originalArgs = args;
    cli.environment = environment;
    CommandLine cmd = new CommandLine(cli);
    boolean serve = args.length > 0 && args[0].equals("serve");
    String renamed = renamedSetting(serve, List.of(args), environment);
    if (renamed != null) {
      System.err.println((serve ? "coordinator serve: " : "coordinator: ") + renamed);
      return 2;
    }
    cmd.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("coordinator: " + ex.getMessage() + " (see --help)");
      err.flush();
      return 2;
    });
    cmd.setExecutionStrategy(parsed -> {
      String refused = io.decodefleet.agent.cli.LogFormatOption.apply(parsed, environment);
      if (refused != null) {
        System.err.println((serve ? "coordinator serve: " : "coordinator: ") + refused);
        return 2;
      }
      return new CommandLine.RunLast().execute(parsed);
    });
    cmd.setExecutionExceptionHandler((ex, command, parsed) -> {
      if (ex instanceof UsageError) {
        command.getErr().println("coordinator: " + ex.getMessage());
        return 2;
      }
      throw ex;
    });
    return cmd.execute(args);
  }

  /**
   * Why the arguments or environment name a setting that was renamed, or null: serve's {@code --port}
   * is {@code --grpc-port}, and {@code DECODEFLEET_PORT} is {@code DECODEFLEET_CLUSTER_PORT} (the
   * cluster port, named as the gpu-agent daemon names it).
   */
  static String renamedSetting(boolean serve, List<String> args, Map<String, String> environment) {
    for (String arg : serve ? args : List.<String>of()) {
      if (arg.equals("--port") || arg.startsWith("--port=")) return "--port was renamed: use --grpc-port";
    }
    if (environment.containsKey("DECODEFLEET_PORT")) {
      return "DECODEFLEET_PORT was renamed: set DECODEFLEET_CLUSTER_PORT";
    }
    return null;
  }

  public static void main(String[] args) {
    org.slf4j.LoggerFactory.getILoggerFactory(); // initialise logging before the actor systems' threads do
    System.exit(run(args));
  }
}
