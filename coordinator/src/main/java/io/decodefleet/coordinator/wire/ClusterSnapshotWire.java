package io.decodefleet.coordinator.wire;

import io.decodefleet.agent.protocol.ProtocolSerializer;
import io.decodefleet.coordinator.fleet.AgentSnapshot;
import io.decodefleet.coordinator.kv.KvTransferHistory;
import io.decodefleet.coordinator.kv.KvTransferKind;
import io.decodefleet.coordinator.kv.KvTransferRecord;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.protocol.coordinator.StepStats;
import io.decodefleet.protocol.coordinator.StepTimes;
import java.util.Map;
import java.util.TreeMap;

/** The protobuf mapping of a {@link ClusterSnapshot}, every field of it (GetClusterState, FleetReady). */
final class ClusterSnapshotWire {
  private ClusterSnapshotWire() {}

  static io.decodefleet.protocol.coordinator.ClusterSnapshot toProto(ClusterSnapshot s) {
    var b = io.decodefleet.protocol.coordinator.ClusterSnapshot.newBuilder().setWorldSize(s.worldSize())
        .setAgentsLost(s.agentsLost()).setMigrations(s.migrations()).setKvMigrations(s.kvMigrations());
    if (s.model() != null) b.setModel(s.model());
    for (AgentSnapshot a : s.agents()) b.addAgents(agent(a));
    if (s.kvTransfers() != null) b.setKvTransfers(transfers(s.kvTransfers()));
    return b.build();
  }

  static ClusterSnapshot fromProto(io.decodefleet.protocol.coordinator.ClusterSnapshot p) {
    return new ClusterSnapshot(p.hasModel() ? p.getModel() : null, p.getWorldSize(),
        p.getAgentsList().stream().map(ClusterSnapshotWire::agent).toList(), p.getAgentsLost(), p.getMigrations(),
        p.hasKvTransfers() ? transfers(p.getKvTransfers()) : null, p.getKvMigrations());
  }

  private static io.decodefleet.protocol.coordinator.AgentSnapshot agent(AgentSnapshot a) {
    var b = io.decodefleet.protocol.coordinator.AgentSnapshot.newBuilder().setAgentId(a.agentId())
        .setNodeAddress(a.nodeAddress()).setDevice(a.device()).setBackend(a.backend()).setLoaded(a.loaded())
        .setStatus(a.status().name()).setKvBlocks(a.kvBlocks()).setFreeKvBlocks(a.freeKvBlocks())
        .setBlockSize(a.blockSize()).setRunning(a.running()).setWaiting(a.waiting()).setInFlight(a.inFlight())
        .setSteps(a.steps()).setStepNanos(a.stepNanos()).setScheduledTokens(a.scheduledTokens()).setPreemptions(a.preemptions())
        .putAllStepsByPath(a.stepsByPath()).setLoadReport(a.loadReport())
        .setPrefixQueriedTokens(a.prefixQueriedTokens()).setPrefixHitTokens(a.prefixHitTokens())
        .setPrefixCachedBlocks(a.prefixCachedBlocks()).setPrefixDeferredAdmissions(a.prefixDeferredAdmissions());
    a.stepsByBatch().forEach((batch, st) -> b.putStepsByBatch(batch,
        StepStats.newBuilder().setSteps(st.steps()).setNanos(st.nanos()).build()));
    AgentSnapshot.StepTimes t = a.times();
    b.setTimes(StepTimes.newBuilder().setSteps(t.steps()).setHostNanos(t.hostNanos()).setGpuSteps(t.gpuSteps())
        .setGpuMicros(t.gpuMicros()).setGapSteps(t.gapSteps()).setIdleGapMicros(t.idleGapMicros()));
    AgentSnapshot.ProfileTotals p = a.profile();
    b.setProfile(io.decodefleet.protocol.coordinator.ProfileTotals.newBuilder().setSteps(p.steps())
        .setSequences(p.sequences()).setStepMicros(p.stepMicros()).addAllFamilyMicros(p.familyMicros())
        .addAllFloorMicros(p.floorMicros()));
    if (a.expertLoad() != null) b.setExpertLoad(ProtocolSerializer.expertLoad(a.expertLoad()));
    return b.build();
  }

  private static AgentSnapshot agent(io.decodefleet.protocol.coordinator.AgentSnapshot p) {
    Map<Integer, AgentSnapshot.StepStats> byBatch = new TreeMap<>();
    p.getStepsByBatchMap().forEach((batch, st) -> byBatch.put(batch, new AgentSnapshot.StepStats(st.getSteps(),
        st.getNanos())));
    StepTimes t = p.getTimes();
    var profile = p.getProfile();
    return new AgentSnapshot(p.getAgentId(), p.getNodeAddress(), p.getDevice(), p.getBackend(), p.getLoaded(),
        AgentSnapshot.Status.valueOf(p.getStatus()), p.getKvBlocks(), p.getFreeKvBlocks(), p.getBlockSize(),
        p.getRunning(), p.getWaiting(), p.getInFlight(), p.getSteps(), p.getStepNanos(), p.getScheduledTokens(),
        p.getPreemptions(), byBatch,
        new TreeMap<>(p.getStepsByPathMap()), new AgentSnapshot.StepTimes(t.getSteps(), t.getHostNanos(),
            t.getGpuSteps(), t.getGpuMicros(), t.getGapSteps(), t.getIdleGapMicros()), p.getLoadReport(),
        p.getPrefixQueriedTokens(), p.getPrefixHitTokens(), p.getPrefixCachedBlocks(),
        new AgentSnapshot.ProfileTotals(profile.getSteps(), profile.getSequences(), profile.getStepMicros(),
            profile.getFamilyMicrosList(), profile.getFloorMicrosList()), p.getPrefixDeferredAdmissions(),
        p.hasExpertLoad() ? expertLoad(p.getExpertLoad()) : null);
  }

  /** A snapshot's expert load; counts that do not fill layers x experts are refused as the agents' reports are. */
  private static io.decodefleet.agent.engine.ExpertLoad expertLoad(io.decodefleet.protocol.cluster.ExpertLoad p) {
    try {
      return ProtocolSerializer.expertLoad(p);
    } catch (java.io.NotSerializableException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static io.decodefleet.protocol.coordinator.KvTransferHistory transfers(KvTransferHistory h) {
    var b = io.decodefleet.protocol.coordinator.KvTransferHistory.newBuilder().setLayout(h.layout()).setMode(h.mode())
        .setGroup(h.group()).setTotal(h.total());
    for (KvTransferRecord r : h.recent()) {
      b.addRecent(io.decodefleet.protocol.coordinator.KvTransferRecord.newBuilder().setOrdinal(r.ordinal())
          .setSequenceId(r.sequenceId()).setFromAgent(r.fromAgent()).setToAgent(r.toAgent()).setBytes(r.bytes())
          .setSendMillis(r.sendMillis()).setReceiveMillis(r.receiveMillis()).setHandoffMillis(r.handoffMillis())
          .setRecomputed(r.recomputed()).setKind(r.kind().name()));
    }
    return b.build();
  }

  private static KvTransferHistory transfers(io.decodefleet.protocol.coordinator.KvTransferHistory p) {
    return new KvTransferHistory(p.getLayout(), p.getMode(), p.getGroup(), p.getTotal(), p.getRecentList().stream()
        .map(r -> new KvTransferRecord(r.getOrdinal(), r.getSequenceId(), r.getFromAgent(), r.getToAgent(),
            r.getBytes(), r.getSendMillis(), r.getReceiveMillis(), r.getHandoffMillis(), r.getRecomputed(),
            KvTransferKind.valueOf(r.getKind())))
        .toList());
  }
}
