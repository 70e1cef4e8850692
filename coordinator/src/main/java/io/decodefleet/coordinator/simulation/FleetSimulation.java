package io.decodefleet.coordinator.simulation;

import io.decodefleet.agent.calibration.StepCalibration;
import io.decodefleet.agent.engine.BlockHashes;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelSpec;
import io.decodefleet.agent.engine.SchedulerConfig;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.fleet.AgentInfo;
import io.decodefleet.coordinator.fleet.FleetAgent;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.metrics.SweepPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * A discrete-event simulation of one run on a fleet: the real workload release ({@code
 * ReleaseSchedule}), placement ({@code PlacementRule}, the run's {@code PlacementPolicy}), engine
 * scheduler and KV block manager per agent, and the real metrics ({@code MetricsRecorder}), with each
 * device replaced by a step-time model on a virtual clock. One thread, no actors, no sleeping: a
 * priority queue of timed actions (arrivals, messages, step ends) runs earliest first.
 *
 * <p>Messages take the calibration's times: a placed sequence reaches its agent {@code dispatch_us}
 * later, a step's tokens reach the coordinator {@code report_us} after the step ends (the coordinator
 * timestamps them then, as it timestamps real step reports). This class runs the agents; {@link
 * SimulatedCoordinator} is the coordinator's side.
 */
public final class FleetSimulation {
  private final SimulationSpec spec;
  private final EventQueue queue = new EventQueue();
  private final List<SimulatedAgent> agents = new ArrayList<>();
  private final SharedHost host;
  /** How much longer a step takes in the cluster's JVM than the bench timed it (CPU agents). */
  private final double stepInflation;
  private final long dispatchNanos;
  private final long reportNanos;
  private final SimulatedCoordinator coordinator;
  private final String table;
  private final String effective;
  private final String sharing;

  public FleetSimulation(SimulationSpec spec) {
    this.spec = spec;
    StepCalibration cal = spec.calibration();
    ModelSpec model = spec.model();
    if (!cal.model().equals(model.model())) {
      throw new IllegalArgumentException("the calibration is for model " + cal.model() + ", the run's model is "
          + model.model());
    }
    ParallelLayout layout = spec.layout();
    int k = layout.tensorParallel();
    ModelConfig config = ModelConfig.preset(model.model());
    StepTimeModel times = StepTimeModel.of(cal, layout.parallelism() == Parallelism.EXPERT, k, spec.decodePath());
    this.table = times.describe();
    int blockSize = model.blockSize();
    int kvBlocks = kvBlocks(cal, model, kvDevices(layout));
    int maxNumSeqs = model.maxNumSeqs() > 0 ? model.maxNumSeqs() : cal.defaults().maxNumSeqs();
    int maxBatched = model.maxBatchedTokens() > 0 ? model.maxBatchedTokens() : cal.defaults().maxBatchedTokens();
    boolean caching = model.prefixCaching() == ModelSpec.PrefixCaching.AUTO ? cal.defaults().prefixCaching()
        : model.prefixCaching() == ModelSpec.PrefixCaching.ON;
    int maxModelLen = (int) Math.min(config.maxPositionEmbeddings(), (long) kvBlocks * blockSize);
    SchedulerConfig limits = new SchedulerConfig(maxNumSeqs, maxBatched, maxModelLen);
    this.effective = "kv_blocks " + kvBlocks + ", block_size " + blockSize + ", max_num_seqs " + maxNumSeqs
        + ", max_batched_tokens " + maxBatched + ", prefix caching " + (caching ? "on" : "off");
    String load = "simulated: " + cal.device() + " (" + cal.kind() + "), " + table + "; " + effective;
    List<FleetAgent> fleet = new ArrayList<>();
    for (int i = 0; i < spec.agents(); i++) {
      String id = "agent-" + i;
      FleetAgent view = new FleetAgent(new AgentInfo(id, null, "simulated", cal.device(), cal.backend(), k), i);
      view.loaded(new AgentReport.ModelLoaded(id, kvBlocks, blockSize, maxNumSeqs, maxModelLen, 0,
          "simulated agents move KV by the calibration's transfer time", "simulated", load));
      fleet.add(view);
      agents.add(new SimulatedAgent(view, kvBlocks, blockSize, limits, caching, BlockHashes.salt(model), times,
          config.vocabSize()));
    }
    // Only a CPU calibration has a host: its agents are engine threads of one JVM and share its cores. A
    // GPU's agents each step on a device of their own, whatever the host's cores.
    double coresPerStep = coresPerStep(cal, times, k, spec.decodePath());
    this.host = cal.host() == null ? null : new SharedHost(cal.host().engineCores(spec.clusterAgents()),
        cal.host().stepCpuMicros(), coresPerStep);
    this.sharing = cal.host() == null ? "" : String.format(java.util.Locale.ROOT, "the agents' engines share the "
        + "host's %d cores: %.2f between them (the rest to its other threads), a step of w us taking w + %.0f us of "
        + "them (its report's handling), each step at min(1, %.2f / sum(%.2f + %.0f / w)) of its speed while others "
        + "step at once; steps %.3f x the bench's", cal.host().cores(), cal.host().engineCores(spec.clusterAgents()),
        cal.host().stepCpuMicros(), cal.host().engineCores(spec.clusterAgents()), coresPerStep,
        cal.host().stepCpuMicros(), cal.host().stepInflation());
    this.stepInflation = cal.host() == null ? 1 : cal.host().stepInflation();
    this.dispatchNanos = Math.round(cal.dispatchMicros() * 1e3);
    this.reportNanos = Math.round(cal.reportMicros() * 1e3);
    for (AgentFailure f : spec.failures()) {
      if (f.index() >= agents.size()) {
        throw new IllegalArgumentException("--fail-agent " + f + ": the fleet of " + spec.gpus() + " GPUs has agents "
            + "agent-0 to agent-" + (agents.size() - 1));
      }
    }
    this.coordinator = new SimulatedCoordinator(spec, fleet, agents, queue, this);
  }

  /**
   * The cores a step wants, in engine threads: 1 for one device; for a replica of k CPU ranks its table's
   * measured busy cores over the single-device table's (the host terms count one busy engine as 1, and
   * the bench's own other threads are in both), else k.
   */
  static double coresPerStep(StepCalibration cal, StepTimeModel times, int k, String decodePath) {
    if (k == 1) return 1;
    double one = cal.table(false, 1, decodePath).map(StepCalibration.LayoutTable::busyCores).orElse(Double.NaN);
    return Double.isNaN(times.busyCores()) || Double.isNaN(one) ? k : times.busyCores() / one;
  }

  /**
   * {@code context} (the model's context) on a simulated fleet: with the KV pool each of its agents
   * has, the rule a run applies once its fleet has loaded (a sequence must fit the largest agent's pool).
   */
  public static LengthLimit lengthLimit(LengthLimit context, StepCalibration cal, ModelSpec model, int kvDevices) {
    return context.withKvPool(kvBlocks(cal, model, kvDevices), model.blockSize());
  }

  /**
   * Devices whose KV pools together hold a replica's KV: K for tp=K (each holds its share of the KV
   * heads), else 1 (an ep=K replica's ranks share block ids, so its pool is one rank's).
   */
  public static int kvDevices(ParallelLayout layout) {
    return layout.parallelism() == Parallelism.EXPERT ? 1 : layout.tensorParallel();
  }

  /** An agent's KV blocks: --kv-blocks, else the device's default pool at the run's block size. */
  private static int kvBlocks(StepCalibration cal, ModelSpec model, int kvDevices) {
    if (model.kvBlocks() > 0) return model.kvBlocks();
    // The device's default pool in tokens; a tp=K replica splits its KV heads over K devices.
    long defaultTokens = (long) cal.defaults().kvBlocks() * cal.blockSize() * kvDevices;
    return (int) Math.min(Integer.MAX_VALUE, defaultTokens / model.blockSize());
  }

  /** The calibration table the steps come from, e.g. "dp cpu table". */
  public String table() {
    return table;
  }

  /**
   * How the agents share a CPU host's cores (a calibration with a host), e.g. "the agents' engines share the
   * host's 2 cores: 1.73 between them ..."; empty when each agent has a device of its own.
   */
  public String hostSharing() {
    return sharing;
  }

  /** The engine settings every agent runs with, defaults resolved, e.g. "kv_blocks 1024, ...". */
  public String effectiveSettings() {
    return effective;
  }

  /**
   * Runs the whole workload on the virtual clock and returns its sweep point (at the fleet's world
   * size in GPUs).
   *
   * @param progress told the requests done so far, now and then (by wall time), or null
   */
  public SweepPoint run(LongConsumer progress) {
    coordinator.start();
    for (AgentFailure f : spec.failures()) {
      SimulatedAgent agent = agents.get(f.index());
      queue.at(f.atNanos(), () -> lose(agent));
    }
    long lastProgress = System.nanoTime();
    while (!coordinator.done()) {
      if (!queue.runNext()) {
        throw new IllegalStateException("the simulation stalled at " + queue.now() / 1e9 + " s with "
            + coordinator.outstanding() + " requests outstanding");
      }
      if (progress != null && (queue.ran() & 0xFFF) == 0 && System.nanoTime() - lastProgress > 5_000_000_000L) {
        lastProgress = System.nanoTime();
        progress.accept(coordinator.settled());
      }
    }
    return coordinator.point();
  }

  /** Virtual actions run (arrivals, messages, step ends, reschedules): the simulation's work. */
  public long eventsRun() {
    return queue.ran();
  }

  // ---- the agents' side: messages arrive, steps begin and end ---------------------------------------

  /** The coordinator sent {@code seq} to {@code agent} at {@code now}: it arrives dispatch_us later. */
  void send(SimulatedAgent agent, SequenceSpec seq) {
    queue.at(queue.now() + dispatchNanos, () -> {
      if (!agent.alive) return; // lost on the way: the coordinator re-places it once it notices
      Optional<String> refused = agent.admit(seq, queue.now());
      if (refused.isPresent()) {
        String reason = refused.get();
        queue.at(queue.now() + reportNanos, () -> coordinator.refused(agent, seq.sequenceId(), reason));
        return;
      }
      // The engine takes in every message waiting in its inbox before it schedules a step: sequences
      // that arrive at one instant share the idle agent's next step, rather than the first starting alone.
      queue.at(queue.now(), () -> startIfIdle(agent));
    });
  }

  /** A message from the coordinator that reaches {@code agent} dispatch_us from now, if it is alive then. */
  void tell(SimulatedAgent agent, Runnable action) {
    queue.at(queue.now() + dispatchNanos, () -> {
      if (agent.alive) action.run();
    });
  }

  long dispatchNanos() {
    return dispatchNanos;
  }

  /** Begins {@code agent}'s next step now if it has work and no step in flight. */
  void startIfIdle(SimulatedAgent agent) {
    if (!agent.alive || agent.busy() || !agent.hasWork()) return;
    double micros = agent.beginStep(queue.now()) * stepInflation;
    if (host != null) {
      host.start(agent, micros, queue.now(), this::scheduleEnd);
    } else {
      agent.rate = 1;
      agent.workLeftMicros = micros;
      agent.workSince = queue.now();
      scheduleEnd(agent);
    }
  }

  private void scheduleEnd(SimulatedAgent agent) {
    int generation = agent.generation;
    queue.at(queue.now() + SharedHost.nanosLeft(agent), () -> {
      if (agent.generation == generation && agent.alive) endStep(agent);
    });
  }

  private void endStep(SimulatedAgent agent) {
    long now = queue.now();
    long stepNanos = now - agent.stepStartNanos;
    if (host != null) host.stop(agent, now, this::scheduleEnd);
    SimulatedAgent.StepEnd end = agent.endStep(queue.now());
    queue.at(now + reportNanos, () -> coordinator.stepped(agent, end, stepNanos));
    startIfIdle(agent);
  }

  private void lose(SimulatedAgent agent) {
    if (!agent.alive || coordinator.done()) return;
    if (host != null && agent.busy()) host.stop(agent, queue.now(), this::scheduleEnd);
    agent.lose();
    queue.at(queue.now() + spec.failureDetectionNanos(), () -> coordinator.lost(agent));
  }
}
