package io.decodefleet.coordinator.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.client.EndpointSession;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.SloSpec;
import io.decodefleet.coordinator.metrics.SweepReport;
import io.decodefleet.coordinator.node.ClusterOptions;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    sortOptions = false, subcommands = {ServeCommand.class, SimulateCommand.class, CalibrateHostCommand.class,
        SoakCommand.class},
    description = "Runs an LLM decode benchmark across a fleet of agents and reports TTFT, TPOT, ITL, "
        + "E2E latency and throughput.")
public final class CoordinatorCli implements Callable<Integer> {

  @Mixin
  FleetOptions fleet = new FleetOptions();

  @Mixin
  WorkloadOptions workload = new WorkloadOptions();

  @Mixin
  EngineOptions engine = new EngineOptions();

  @Mixin
  EndpointOptions client = new EndpointOptions();

  @Mixin
  ReportOptions report = new ReportOptions();

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

  @Option(names = "--log-format", paramLabel = "FORMAT", scope = CommandLine.ScopeType.INHERIT,
      description = "Logs on stderr as text (logback.xml's pattern) or json: one object per line by logback's "
          + "JsonEncoder, a request's lines with its request_id in the MDC (env DECODEFLEET_LOG_FORMAT; default text).")
  String logFormat;

  String[] originalArgs = new String[0];

  /** The process environment (tests give their own): the cluster store passwords' variables. */
  Map<String, String> environment = System.getenv();

  @Spec
  CommandSpec spec;

  /** Every option checked; the message of a UsageError is the one line the user sees. */
  BenchmarkSession session() {
    List<Integer> sizes = fleet.sizes();
    fleet.placementPolicy();
    ParallelLayout parallel = fleet.parallelLayout(sizes);
    if (!(verifyFraction > 0 && verifyFraction <= 1)) {
      throw new UsageError("--verify-fraction must be in (0, 1], got " + verifyFraction);
    }
    report.checkPercentiles();
    SloSpec slos = report.slos();
    report.checkExpectations();
    try {
      cluster.validate(environment);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
    var model = engine.spec(fleet.seed, verify ? verifyFraction : 0.0);
    // The model's context is known now; the fleet's KV pools once it is loaded (BenchmarkSession checks again).
    LengthLimit context = WorkloadOptions.contextLimit(engine.config());
    return new BenchmarkSession(this, new ArrayList<>(sizes), model,
        workload.requests(engine.config(), fleet.seed, context), context, slos, parallel);
  }

  @Override
  public Integer call() {
    ParseResult parsed = spec.commandLine().getParseResult();
    if (client.wanted(parsed)) return runAgainstEndpoint(parsed);
    if (verifyAgainst != null) {
      if (!verifyAgainst.equals("cpu") || fleet.worldSize != 1 || fleet.worldSizes != null) {
        System.err.println("coordinator: --verify-against takes cpu and --world-size 1");
        return 2;
      }
      return io.decodefleet.agent.cli.GpuAgentCli.run("parity", "--model", engine.model, "--seed",
          String.valueOf(fleet.seed));
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
      slos = report.slos();
      report.checkPercentiles();
      session = client.session(parsed, workload, engine.config(), fleet.seed, settings);
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
      if (!report.quiet) System.out.println("DecodeFleet client mode: " + session.description().url() + ", served model "
          + session.description().servedModel());
      int skipped = settings.path("overlength_skipped").asInt();
      if (!report.quiet && skipped > 0) {
        System.out.println("DecodeFleet: --on-overlength skip left out " + skipped + " requests whose prompt plus "
            + "output exceed model " + engine.config().name() + "'s context");
      }
      SweepReport measured = session.run(("coordinator " + String.join(" ", originalArgs)).trim(), settings, slos,
          line -> {
            if (!report.quiet) System.out.println(line);
          });
      return new SweepOutput(report).writeAndPrint(measured);
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
