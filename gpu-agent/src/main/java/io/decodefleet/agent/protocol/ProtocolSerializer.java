package io.decodefleet.agent.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceSpec;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.engine.kv.HeldKv;
import io.decodefleet.protocol.cluster.ClusterProtocol;
import java.io.NotSerializableException;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer for every {@link ProtocolMessage}: each typed message maps onto its protobuf
 * message (package {@code io.decodefleet.protocol.cluster}); actor references travel as their
 * serialized paths and are resolved on arrival.
 */
public final class ProtocolSerializer extends SerializerWithStringManifest {
  /** Pekko reserves identifiers 0–40; this one is ours. */
  public static final int IDENTIFIER = 7301;

  private final ActorRefResolver resolver;

  public ProtocolSerializer(ExtendedActorSystem system) {
    this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof ProtocolMessage) return o.getClass().getSimpleName();
    throw new IllegalArgumentException("not a protocol message: " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    return toProto(o).toByteArray();
  }

  private com.google.protobuf.Message toProto(Object o) {
    if (o instanceof AgentCommand.Register m) {
      return io.decodefleet.protocol.cluster.Register.newBuilder().setReplyTo(ref(m.replyTo())).build();
    } else if (o instanceof AgentCommand.RegistrationRefused m) {
      return io.decodefleet.protocol.cluster.RegistrationRefused.newBuilder().setReason(m.reason()).build();
    } else if (o instanceof AgentCommand.LoadModel m) {
      return io.decodefleet.protocol.cluster.LoadModel.newBuilder().setSpec(ModelSpecWire.toProto(m.spec()))
          .setReplyTo(ref(m.replyTo())).setKeepResident(m.keepResident()).build();
    } else if (o instanceof AgentCommand.StartSequences m) {
      var b = io.decodefleet.protocol.cluster.StartSequences.newBuilder();
      for (SequenceSpec s : m.sequences()) {
        var sb = io.decodefleet.protocol.cluster.SequenceSpec.newBuilder().setSequenceId(s.sequenceId())
            .setMaxTokens(s.maxTokens()).setPrefillOnly(s.prefillOnly());
        if (!s.sampling().equals(io.decodefleet.agent.engine.sampling.SamplingParams.GREEDY)) {
          sb.setSampling(SamplingWire.toProto(s.sampling()));
        }
        for (int t : s.promptTokens()) sb.addPromptTokens(t);
        b.addSequences(sb);
      }
      return b.build();
    } else if (o instanceof AgentCommand.AbortSequences m) {
      return io.decodefleet.protocol.cluster.AbortSequences.newBuilder().addAllSequenceIds(m.sequenceIds()).build();
    } else if (o instanceof AgentCommand.ProfileSteps m) {
      return io.decodefleet.protocol.cluster.ProfileSteps.newBuilder().setSteps(m.steps()).build();
    } else if (o instanceof AgentCommand.Drain m) {
      return io.decodefleet.protocol.cluster.Drain.newBuilder().setReplyTo(ref(m.replyTo())).build();
    } else if (o instanceof AgentReport.Registered m) {
      return io.decodefleet.protocol.cluster.Registered.newBuilder().setAgentId(m.agentId()).setAgentRef(ref(m.agent()))
          .setNodeAddress(m.nodeAddress()).setDevice(m.device()).setBackend(m.backend())
          .setTensorParallel(m.tensorParallel())
          .setExpertParallel(m.parallelism() == io.decodefleet.agent.engine.tp.Parallelism.EXPERT).build();
    } else if (o instanceof AgentReport.ModelLoaded m) {
      return io.decodefleet.protocol.cluster.ModelLoaded.newBuilder().setAgentId(m.agentId()).setKvBlocks(m.kvBlocks())
          .setBlockSize(m.blockSize()).setMaxNumSeqs(m.maxNumSeqs()).setMaxModelLen(m.maxModelLen())
          .setLoadMillis(m.loadMillis()).setKvTransferUnsupported(m.kvTransferUnsupported()).setProcess(m.process())
          .setLoadReport(m.loadReport())
          .build();
    } else if (o instanceof AgentReport.LoadFailed m) {
      return io.decodefleet.protocol.cluster.LoadFailed.newBuilder().setAgentId(m.agentId()).setReason(m.reason()).build();
    } else if (o instanceof AgentReport.StepReport m) {
      var b = io.decodefleet.protocol.cluster.StepReport.newBuilder().setAgentId(m.agentId()).setStep(m.step())
          .setFreeKvBlocks(m.freeKvBlocks()).setRunning(m.running()).setWaiting(m.waiting())
          .setScheduledTokens(m.scheduledTokens()).setStepNanos(m.stepNanos()).setPreempted(m.preempted())
          .setNumSequences(m.numSequences()).setPath(m.path()).setHostNanos(m.hostNanos())
          .setGpuMicros(m.gpuMicros()).setIdleGapMicros(m.idleGapMicros())
          .setAllReduces(m.allReduces().operations()).setAllReduceBytes(m.allReduces().bytes());
      if (m.profile() != null) {
        b.setProfile(io.decodefleet.protocol.cluster.StepProfile.newBuilder().setBatch(m.profile().batch())
            .setStepMicros(m.profile().stepMicros()).addAllFamilyMicros(m.profile().familyMicros())
            .addAllFloorMicros(m.profile().floorMicros()));
      }
      if (m.expertLoad() != null) b.setExpertLoad(expertLoad(m.expertLoad()));
      for (SequenceTokens t : m.tokens()) {
        var tb = io.decodefleet.protocol.cluster.SequenceTokens.newBuilder().setSequenceId(t.sequenceId());
        for (int token : t.tokens()) tb.addTokens(token);
        b.addTokens(tb);
      }
      for (SequenceFinished f : m.finished()) {
        VerifyResult v = f.verify();
        b.addFinished(io.decodefleet.protocol.cluster.SequenceFinished.newBuilder().setSequenceId(f.sequenceId())
            .setReason(f.reason()).setOutputTokens(f.outputTokens()).setPreemptions(f.preemptions())
            .setQueueNanos(f.queueNanos()).setPrefillNanos(f.prefillNanos())
            .setVerify(io.decodefleet.protocol.cluster.VerifyResult.newBuilder().setChecked(v.checked())
                .setPassed(v.passed()).setMaxRelError(v.maxRelError()).setStepsChecked(v.stepsChecked())
                .setDetail(v.detail()).setTolerance(v.tolerance())));
      }
      return b.build();
    } else if (o instanceof AgentReport.PrefixCacheReport m) {
      return io.decodefleet.protocol.cluster.PrefixCacheReport.newBuilder().setAgentId(m.agentId())
          .addAllAdded(m.added()).addAllEvicted(m.evicted()).setQueriedTokens(m.queriedTokens())
          .setHitTokens(m.hitTokens()).setDeferredAdmissions(m.deferredAdmissions()).build();
    } else if (o instanceof AgentReport.SequenceFailed m) {
      return io.decodefleet.protocol.cluster.SequenceFailed.newBuilder().setAgentId(m.agentId())
          .setSequenceId(m.sequenceId()).setReason(m.reason()).build();
    } else if (o instanceof AgentReport.Drained m) {
      var b = io.decodefleet.protocol.cluster.Drained.newBuilder().setAgentId(m.agentId())
          .addAllUnfinishedSequenceIds(m.unfinishedSequenceIds());
      for (HeldKv h : m.heldKv()) {
        b.addHeldKv(io.decodefleet.protocol.cluster.HeldKv.newBuilder().setSequenceId(h.sequenceId())
            .setNumComputedTokens(h.numComputedTokens()));
      }
      return b.build();
    }
    com.google.protobuf.Message kv = KvProtocol.toProto(o, this::ref);
    if (kv != null) return kv;
    throw new IllegalArgumentException("no protobuf mapping for " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      return fromProto(bytes, manifest);
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException("cannot parse " + manifest + ": " + e.getMessage());
    }
  }

  private Object fromProto(byte[] bytes, String manifest)
      throws InvalidProtocolBufferException, NotSerializableException {
    switch (manifest) {
      case "Register": {
        var p = io.decodefleet.protocol.cluster.Register.parseFrom(bytes);
        return new AgentCommand.Register(resolve(p.getReplyTo()));
      }
      case "RegistrationRefused":
        return new AgentCommand.RegistrationRefused(
            io.decodefleet.protocol.cluster.RegistrationRefused.parseFrom(bytes).getReason());
      case "LoadModel": {
        var p = io.decodefleet.protocol.cluster.LoadModel.parseFrom(bytes);
        return new AgentCommand.LoadModel(ModelSpecWire.fromProto(p.getSpec()), resolve(p.getReplyTo()),
            p.getKeepResident());
      }
      case "StartSequences": {
        var p = io.decodefleet.protocol.cluster.StartSequences.parseFrom(bytes);
        return new AgentCommand.StartSequences(p.getSequencesList().stream()
            .map(s -> new SequenceSpec(s.getSequenceId(), ints(s.getPromptTokensList()), s.getMaxTokens(),
                s.getPrefillOnly(), SamplingWire.fromProto(s.hasSampling(), s.getSampling()))).toList());
      }
      case "AbortSequences":
        return new AgentCommand.AbortSequences(List.copyOf(
            io.decodefleet.protocol.cluster.AbortSequences.parseFrom(bytes).getSequenceIdsList()));
      case "PrefixCacheReport": {
        var p = io.decodefleet.protocol.cluster.PrefixCacheReport.parseFrom(bytes);
        return new AgentReport.PrefixCacheReport(p.getAgentId(), List.copyOf(p.getAddedList()),
            List.copyOf(p.getEvictedList()), p.getQueriedTokens(), p.getHitTokens(), p.getDeferredAdmissions());
      }
      case "ProfileSteps":
        return new AgentCommand.ProfileSteps(io.decodefleet.protocol.cluster.ProfileSteps.parseFrom(bytes).getSteps());
      case "Drain":
        return new AgentCommand.Drain(resolve(io.decodefleet.protocol.cluster.Drain.parseFrom(bytes).getReplyTo()));
      case "Registered": {
        var p = io.decodefleet.protocol.cluster.Registered.parseFrom(bytes);
        return new AgentReport.Registered(p.getAgentId(), resolve(p.getAgentRef()), p.getNodeAddress(), p.getDevice(),
            p.getBackend(), Math.max(1, p.getTensorParallel()), p.getExpertParallel()
            ? io.decodefleet.agent.engine.tp.Parallelism.EXPERT : io.decodefleet.agent.engine.tp.Parallelism.TENSOR);
      }
      case "ModelLoaded": {
        var p = io.decodefleet.protocol.cluster.ModelLoaded.parseFrom(bytes);
        return new AgentReport.ModelLoaded(p.getAgentId(), p.getKvBlocks(), p.getBlockSize(), p.getMaxNumSeqs(),
            p.getMaxModelLen(), p.getLoadMillis(), p.getKvTransferUnsupported(), p.getProcess(), p.getLoadReport());
      }
      case "LoadFailed": {
        var p = io.decodefleet.protocol.cluster.LoadFailed.parseFrom(bytes);
        return new AgentReport.LoadFailed(p.getAgentId(), p.getReason());
      }
      case "StepReport": {
        var p = io.decodefleet.protocol.cluster.StepReport.parseFrom(bytes);
        List<SequenceTokens> tokens = p.getTokensList().stream()
            .map(t -> new SequenceTokens(t.getSequenceId(), ints(t.getTokensList()))).toList();
        List<SequenceFinished> finished = p.getFinishedList().stream().map(f -> {
          var v = f.getVerify();
          return new SequenceFinished(f.getSequenceId(), f.getReason(), f.getOutputTokens(),
              f.getPreemptions(), new VerifyResult(v.getChecked(), v.getPassed(), v.getMaxRelError(),
                  v.getStepsChecked(), v.getDetail(), v.getTolerance()), f.getQueueNanos(),
              f.hasPrefillNanos() ? f.getPrefillNanos() : -1);
        }).toList();
        return new AgentReport.StepReport(p.getAgentId(), p.getStep(), tokens, finished, p.getFreeKvBlocks(),
            p.getRunning(), p.getWaiting(), p.getScheduledTokens(), p.getStepNanos(), p.getPreempted(),
            p.getNumSequences(), p.getPath(), p.getHostNanos(), p.getGpuMicros(), p.getIdleGapMicros(),
            p.hasProfile() ? new io.decodefleet.agent.engine.StepProfile(p.getProfile().getBatch(),
                p.getProfile().getStepMicros(), p.getProfile().getFamilyMicrosList(),
                p.getProfile().getFloorMicrosList()) : null, p.hasExpertLoad() ? expertLoad(p.getExpertLoad()) : null,
            new io.decodefleet.agent.engine.AllReduceTraffic(p.getAllReduces(), p.getAllReduceBytes()));
      }
      case "SequenceFailed": {
        var p = io.decodefleet.protocol.cluster.SequenceFailed.parseFrom(bytes);
        return new AgentReport.SequenceFailed(p.getAgentId(), p.getSequenceId(), p.getReason());
      }
      case "Drained": {
        var p = io.decodefleet.protocol.cluster.Drained.parseFrom(bytes);
        return new AgentReport.Drained(p.getAgentId(), List.copyOf(p.getUnfinishedSequenceIdsList()),
            p.getHeldKvList().stream().map(h -> new HeldKv(h.getSequenceId(), h.getNumComputedTokens()))
                .toList());
      }
      default: {
        Object kv = KvProtocol.fromProto(manifest, bytes, this::resolve);
        if (kv != null) return kv;
        throw new NotSerializableException("unknown protocol manifest '" + manifest + "'");
      }
    }
  }

  /** The wire form of an expert load (coordinator snapshots carry it too). */
  public static io.decodefleet.protocol.cluster.ExpertLoad expertLoad(io.decodefleet.agent.engine.ExpertLoad l) {
    var b = io.decodefleet.protocol.cluster.ExpertLoad.newBuilder().setLayers(l.layers()).setExperts(l.experts());
    for (long t : l.tokens()) b.addTokens(t);
    for (long d : l.dropped()) b.addDropped(d);
    return b.build();
  }

  /** @throws NotSerializableException when the counts do not fill layers x experts */
  public static io.decodefleet.agent.engine.ExpertLoad expertLoad(io.decodefleet.protocol.cluster.ExpertLoad p)
      throws NotSerializableException {
    try {
      return new io.decodefleet.agent.engine.ExpertLoad(p.getLayers(), p.getExperts(),
          p.getTokensList().stream().mapToLong(Long::longValue).toArray(),
          p.getDroppedList().stream().mapToLong(Long::longValue).toArray());
    } catch (IllegalArgumentException e) {
      throw new NotSerializableException("ExpertLoad: " + e.getMessage());
    }
  }

  private static int[] ints(List<Integer> list) {
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) out[i] = list.get(i);
    return out;
  }

  private String ref(ActorRef<?> ref) {
    return resolver.toSerializationFormat(ref);
  }

  private <T> ActorRef<T> resolve(String path) {
    return resolver.resolveActorRef(path);
  }

  /** The outer class is referenced so the descriptor is initialised once, eagerly. */
  static final Object DESCRIPTOR = ClusterProtocol.getDescriptor();
}
