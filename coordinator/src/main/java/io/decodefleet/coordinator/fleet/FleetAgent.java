package io.decodefleet.coordinator.fleet;

import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.protocol.AgentReport;
import io.decodefleet.coordinator.placement.AgentLoad;

/** One loaded agent as the coordinator tracks it: capacity, projected load, live counters. */
public final class FleetAgent {
  public final AgentInfo info;
  public final int index;
  int kvBlocks;
  int blockSize;
  int maxModelLen;
  long loadMillis;
  /** Why its backend cannot move KV pages to other agents; empty when it can. */
  public String kvTransferUnsupported = "not loaded";
  /** Its process as it reported it: agents of one process can form an in-process KV group. */
  public String process = "";
  public boolean loaded;
  /** What the agent's backend said of its load (its GEMM dispatch, graphs, ...); empty if nothing. */
  String loadReport = "";
  /** False once the agent left the cluster or drained: it gets no new sequences. */
  public boolean placeable = true;
  public boolean alive = true;
  long reservedBlocks;
  int inFlight;
  int freeKvBlocks;
  int running;
  int waiting;
  long steps;
  long stepNanos;
  long scheduledTokens;
  long preemptions;
  /** Per batch bucket: {steps, nanos}. */
  private final java.util.TreeMap<Integer, long[]> byBatch = new java.util.TreeMap<>();
  private final java.util.TreeMap<String, Long> byPath = new java.util.TreeMap<>();
  private long hostNanos;
  private long gpuSteps;
  private double gpuMicros;
  private long gapSteps;
  private double idleGapMicros;
  /**
   * Content hashes of the blocks its prefix cache holds, as its reports told, plus those of prompts
   * placed here and not yet reported (what prefix-aware placement reads).
   */
  private final java.util.Set<Long> cachedBlocks = new java.util.HashSet<>();
  private long prefixQueriedTokens;
  private long prefixHitTokens;
  private long prefixDeferredAdmissions;
  private AgentSnapshot.ProfileTotals profile = AgentSnapshot.ProfileTotals.NONE;
  private io.decodefleet.agent.engine.ExpertLoad expertLoad; // null until a step of a mixture of experts

  public FleetAgent(AgentInfo info, int index) {
    this.info = info;
    this.index = index;
  }

  public void loaded(AgentReport.ModelLoaded m) {
    kvBlocks = m.kvBlocks();
    blockSize = m.blockSize();
    maxModelLen = m.maxModelLen();
    loadMillis = m.loadMillis();
    kvTransferUnsupported = m.kvTransferUnsupported();
    process = m.process();
    loadReport = m.loadReport();
    freeKvBlocks = m.kvBlocks();
    loaded = true;
  }

  public void stepped(AgentReport.StepReport m) {
    freeKvBlocks = m.freeKvBlocks();
    running = m.running();
    waiting = m.waiting();
    steps++;
    stepNanos += m.stepNanos();
    scheduledTokens += m.scheduledTokens();
    preemptions += m.preempted();
    if (m.numSequences() > 0) {
      long[] b = byBatch.computeIfAbsent(BatchBuckets.bucketOf(m.numSequences()), k -> new long[2]);
      b[0]++;
      b[1] += m.stepNanos();
    }
    if (!m.path().isEmpty()) byPath.merge(m.path(), 1L, Long::sum);
    hostNanos += m.hostNanos();
    if (!Double.isNaN(m.gpuMicros())) {
      gpuSteps++;
      gpuMicros += m.gpuMicros();
    }
    if (!Double.isNaN(m.idleGapMicros())) {
      gapSteps++;
      idleGapMicros += m.idleGapMicros();
    }
    if (m.profile() != null) profile = profile.plus(m.profile());
    if (m.expertLoad() != null) expertLoad = expertLoad == null ? m.expertLoad() : expertLoad.plus(m.expertLoad());
  }

  /**
   * It left the cluster (its node was downed, or left after its drain): it runs nothing any more,
   * whatever its last step report said, and gets no new work.
   */
  public void lost() {
    alive = false;
    placeable = false;
    running = 0;
    waiting = 0;
  }

  public int blockSize() {
    return blockSize;
  }

  public void prefixCached(AgentReport.PrefixCacheReport m) {
    cachedBlocks.addAll(m.added());
    m.evicted().forEach(cachedBlocks::remove);
    prefixQueriedTokens += m.queriedTokens();
    prefixHitTokens += m.hitTokens();
    prefixDeferredAdmissions += m.deferredAdmissions();
  }

  /**
   * A prompt was placed here: its full blocks will be cached here once prefilled, so the next
   * request with the same prefix is counted as a hit before the agent has reported them (requests
   * that arrive together would otherwise all see empty caches). An eviction report takes them out.
   */
  public void expectCached(long[] chain) {
    for (long h : chain) cachedBlocks.add(h);
  }

  /** How many of the leading blocks of a prompt (its block hash chain) this agent holds, as far as it told. */
  public int cachedPrefixBlocks(long[] chain) {
    int n = 0;
    while (n < chain.length && cachedBlocks.contains(chain[n])) n++;
    return n;
  }

  /** Whether a sequence of {@code tokens} (prompt + max output) can ever run here. */
  public boolean canHold(int tokens) {
    return loaded && tokens <= maxModelLen && blocksFor(tokens) <= kvBlocks;
  }

  long blocksFor(int tokens) {
    return (tokens + blockSize - 1) / blockSize;
  }

  public void reserve(int tokens) {
    reservedBlocks += blocksFor(tokens);
    inFlight++;
  }

  public void unreserve(int tokens) {
    reservedBlocks -= blocksFor(tokens);
    inFlight--;
  }

  public AgentLoad load() {
    return load(0);
  }

  /** Its load for a request of which it holds {@code cachedPrefixBlocks} leading blocks. */
  public AgentLoad load(int cachedPrefixBlocks) {
    return new AgentLoad(info.agentId(), index, kvBlocks, blockSize, reservedBlocks, inFlight, cachedPrefixBlocks);
  }

  public AgentSnapshot snapshot() {
    AgentSnapshot.Status status = !alive ? AgentSnapshot.Status.LOST
        : placeable ? AgentSnapshot.Status.UP : AgentSnapshot.Status.DRAINING;
    // A lost agent runs nothing, even if a step report of its last moments arrived after it was lost.
    return new AgentSnapshot(info.agentId(), info.nodeAddress(), info.device(), info.backend(), loaded, status,
        kvBlocks, freeKvBlocks, blockSize, alive ? running : 0, alive ? waiting : 0, alive ? inFlight : 0, steps, stepNanos, scheduledTokens, preemptions,
        stepsByBatch(), java.util.Map.copyOf(byPath),
        new AgentSnapshot.StepTimes(steps, hostNanos, gpuSteps, gpuMicros, gapSteps, idleGapMicros), loadReport,
        prefixQueriedTokens, prefixHitTokens, cachedBlocks.size(), profile, prefixDeferredAdmissions, expertLoad);
  }

  private java.util.Map<Integer, AgentSnapshot.StepStats> stepsByBatch() {
    java.util.Map<Integer, AgentSnapshot.StepStats> out = new java.util.TreeMap<>();
    byBatch.forEach((bucket, b) -> out.put(bucket, new AgentSnapshot.StepStats(b[0], b[1])));
    return out;
  }

  /**
   * Has each agent that serves a run of {@code worldSize} ({@link FleetScope}) profile its next
   * {@code steps} decode-only steps; 0: nothing is sent. Told before the run's first sequence, from
   * the actor that will send the sequences, so the agents have it first.
   */
  public static void profileNextSteps(java.util.List<FleetAgent> fleet, int worldSize, int steps) {
    if (steps <= 0) return;
    for (FleetAgent a : FleetScope.firstLive(fleet, x -> x.placeable, worldSize)) {
      a.info.ref().tell(new io.decodefleet.agent.protocol.AgentCommand.ProfileSteps(steps));
    }
  }
}
