package io.decodefleet.agent.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.daemon.AgentDaemon;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent}: the per-node daemon of a DecodeFleet cluster, plus its device tools
 * ({@code selftest}, {@code bench}, {@code parity}) and {@code export-checkpoint}.
 */
@Command(name = "gpu-agent", mixinStandardHelpOptions = true, version = "DecodeFleet 0.1.0",
    description = {"The DecodeFleet per-node daemon and its device tools.",
        "With no subcommand: join the cluster and serve one agent per device until SIGTERM, which drains."},
    subcommands = {SelfCheckCommand.class, BenchCommand.class, ParityCommand.class,
        ExportCheckpointCommand.class})
public final class GpuAgentCli implements Callable<Integer> {

  @Option(names = "--seed-nodes", split = ",", defaultValue = "${env:DECODEFLEET_SEED_NODES}",
      description = "Cluster seed nodes as host:port,... (env DECODEFLEET_SEED_NODES). Not needed with --kubernetes.")
  List<String> seedNodes = new ArrayList<>();

  @Option(names = "--bind", defaultValue = "${env:DECODEFLEET_BIND:-127.0.0.1}",
      description = "Address to bind and advertise (env DECODEFLEET_BIND; default ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--cluster-port", defaultValue = "${env:DECODEFLEET_CLUSTER_PORT:-2552}",
      description = "Pekko cluster port (env DECODEFLEET_CLUSTER_PORT; default ${DEFAULT-VALUE}; 0 = any free port).")
  int clusterPort;

  @Option(names = "--management-port", defaultValue = "${env:DECODEFLEET_MANAGEMENT_PORT:-8558}",
      description = "Pekko Management HTTP port for /alive, /ready and /metrics (default ${DEFAULT-VALUE}).")
  int managementPort;

  @Option(names = "--node-name", defaultValue = "${env:DECODEFLEET_NODE_NAME}",
      description = "Prefix of this node's agent ids, unique in the cluster (env DECODEFLEET_NODE_NAME; default: the"
          + " host name and the cluster port, e.g. gpu-host-2552).")
  String nodeName;

  @Option(names = "--cpu-agents", defaultValue = "${env:DECODEFLEET_CPU_AGENTS:-1}",
      description = "CPU agent slots on this node (default ${DEFAULT-VALUE}).")
  int cpuAgents;

  @Option(names = "--devices", defaultValue = "${env:DECODEFLEET_DEVICES:-auto}",
      description = "CUDA devices to serve, one agent each: auto (every GPU, or --cpu-agents CPU agents when there"
          + " is none), cpu, or indices such as 0,1 (env DECODEFLEET_DEVICES; default ${DEFAULT-VALUE}).")
  String devices;

  @Option(names = "--tensor-parallel", defaultValue = "${env:DECODEFLEET_TENSOR_PARALLEL:-1}",
      description = "Devices per agent: K > 1 groups this node's GPUs (or CPU slots) K at a time into tensor-parallel"
          + " replicas, one agent each, for the coordinator's --layout tp=K (default ${DEFAULT-VALUE}).")
  int tensorParallel;

  @Option(names = "--expert-parallel", defaultValue = "${env:DECODEFLEET_EXPERT_PARALLEL:-1}",
      description = "Devices per agent for a mixture of experts: K > 1 groups this node's GPUs (or CPU slots) K at"
          + " a time into expert-parallel replicas (each rank 1/K of every layer's experts), one agent each, for"
          + " the coordinator's --layout ep=K (default ${DEFAULT-VALUE}). Not with --tensor-parallel.")
  int expertParallel;

  @Option(names = "--decode-path", defaultValue = "persistent+graph",
      description = "How CUDA agents run decode steps: eager, graph, persistent or persistent+graph (default"
          + " ${DEFAULT-VALUE}).")
  String decodePath;

  @Option(names = "--gemm", defaultValue = "${env:DECODEFLEET_GEMM:-auto}",
      description = "GEMMs of the projections on CUDA agents: auto (the fastest of ours and cuBLASLt per shape, timed"
          + " at model load), ours, cublaslt or skinny2 (our second skinny GEMM wherever it applies) (default"
          + " ${DEFAULT-VALUE}).")
  String gemm;

  @Option(names = "--gpu-memory-fraction", defaultValue = "0.9",
      description = "Share of each GPU's memory a CUDA agent may use, weights and KV cache together (default"
          + " ${DEFAULT-VALUE}).")
  double gpuMemoryFraction;

  @Option(names = "--kubernetes", description = "Form the cluster with Cluster Bootstrap (kubernetes-api discovery).")
  boolean kubernetes;

  @Option(names = "--log-format", paramLabel = "FORMAT", scope = CommandLine.ScopeType.INHERIT,
      description = "Logs on stderr as text or json (one object per line by logback's JsonEncoder) (env"
          + " DECODEFLEET_LOG_FORMAT; default text).")
  String logFormat;

  @Option(names = "--drain-timeout", defaultValue = "60",
      description = "Seconds SIGTERM waits for agents to hand back their sequences (default ${DEFAULT-VALUE}).")
  int drainTimeoutSeconds;

  @CommandLine.Mixin
  ClusterTlsOptions clusterTls = new ClusterTlsOptions();

  /** The process environment (tests give their own): where the store passwords' variables are read. */
  java.util.Map<String, String> environment = System.getenv();

  @Override
  public Integer call() throws Exception {
    if (seedNodes.isEmpty() && !kubernetes) {
      return usage("give --seed-nodes host:port,... (or DECODEFLEET_SEED_NODES), or --kubernetes");
    }
    for (String seed : seedNodes) {
      if (!io.decodefleet.agent.ClusterConfig.isSeedNode(seed)) return usage("--seed-nodes: '" + seed + "' is not host:port");
    }
    if (clusterPort < 0 || clusterPort > 65535) return usage("--cluster-port must be in 0..65535, got " + clusterPort);
    if (managementPort < 0 || managementPort > 65535) {
      return usage("--management-port must be in 0..65535, got " + managementPort);
    }
    if (cpuAgents < 1) return usage("--cpu-agents must be >= 1, got " + cpuAgents);
    if (tensorParallel < 1) return usage("--tensor-parallel must be >= 1, got " + tensorParallel);
    if (expertParallel < 1) return usage("--expert-parallel must be >= 1, got " + expertParallel);
    if (expertParallel > 1 && tensorParallel > 1) {
      return usage("--expert-parallel and --tensor-parallel cannot both be over 1: a replica splits one way");
    }
    if (drainTimeoutSeconds < 1) return usage("--drain-timeout must be >= 1 s, got " + drainTimeoutSeconds);
    io.decodefleet.agent.ClusterTls tls;
    CudaSettings cuda;
    try {
      tls = clusterTls.resolve(environment);
      cuda = CudaSettings.defaults().withDecodePath(DecodePath.parse(decodePath))
          .withGemm(GemmTuner.Policy.parse(gemm))
          .withGpuMemoryFraction(gpuMemoryFraction);
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
    try {
      return AgentDaemon.run(new AgentDaemon.Settings(List.copyOf(seedNodes), bind, clusterPort, nodeName, cpuAgents,
          managementPort, kubernetes, CpuBackend.DEFAULT_KV_BYTES, java.time.Duration.ofSeconds(drainTimeoutSeconds),
          devices, cuda, Math.max(tensorParallel, expertParallel), tls, expertParallel > 1
          ? io.decodefleet.agent.engine.tp.Parallelism.EXPERT : io.decodefleet.agent.engine.tp.Parallelism.TENSOR));
    } catch (IllegalArgumentException | io.decodefleet.agent.PortBinding.Unavailable e) {
      return usage(e.getMessage()); // --devices naming a GPU that is not here, a port that is taken
    }
  }

  /**
   * Why the daemon's arguments or environment name a setting that was renamed, or null: {@code --port}
   * is {@code --cluster-port} and {@code DECODEFLEET_PORT} is {@code DECODEFLEET_CLUSTER_PORT}, the
   * names the coordinator uses for the same port.
   */
  static String renamedSetting(List<String> args, java.util.Map<String, String> environment) {
    for (String arg : args) {
      if (arg.equals("--port") || arg.startsWith("--port=")) return "--port was renamed: use --cluster-port";
    }
    if (environment.containsKey("DECODEFLEET_PORT")) {
      return "DECODEFLEET_PORT was renamed: set DECODEFLEET_CLUSTER_PORT";
    }
    return null;
  }

  private static int usage(String message) {
    System.err.println("gpu-agent: " + message);
    return 2;
  }

  /** Parses and runs; returns the exit code. */
  public static int run(String... args) {
    return run(System.getenv(), args);
  }

  /**
   * Parses and runs with {@code environment} as the process environment; returns the exit code. A
   * renamed option or environment variable of the daemon is refused first (exit code 2), so an old
   * command line or manifest fails loudly instead of starting on the wrong port.
   */
  static int run(java.util.Map<String, String> environment, String... args) {
    GpuAgentCli cli = new GpuAgentCli();
    cli.environment = environment;
    CommandLine cmd = new CommandLine(cli);
    boolean daemon = args.length == 0 || !cmd.getSubcommands().containsKey(args[0]);
    String renamed = daemon ? renamedSetting(List.of(args), environment) : null;
    if (renamed != null) return usage(renamed);
    cmd.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      err.println("gpu-agent: " + ex.getMessage() + " (see --help)");
      err.flush();
      return 2;
    });
    cmd.setExecutionStrategy(parsed -> {
      String refused = LogFormatOption.apply(parsed, environment);
      if (refused != null) return usage(refused);
      return new CommandLine.RunLast().execute(parsed);
    });
    return cmd.execute(args);
  }

  public static void main(String[] args) {
    org.slf4j.LoggerFactory.getILoggerFactory(); // initialise logging before the actor system's threads do
    System.exit(run(args));
  }
}
