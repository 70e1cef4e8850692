package io.decodefleet.coordinator.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.protocol.ModelSpecWire;
import io.decodefleet.agent.protocol.SamplingWire;
import io.decodefleet.coordinator.Coordinator;
import io.decodefleet.coordinator.fleet.ParallelLayout;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.run.ClusterSnapshot;
import io.decodefleet.protocol.coordinator.CoordinatorProtocol;
import java.io.NotSerializableException;
import java.time.Duration;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer of the Coordinator's messages that cross between cluster nodes (bound in this
 * module's reference.conf): what a serve node's APIs send the Coordinator singleton on another
 * coordinator node (Submit, Cancel, LoadFleet, GetClusterState), and what comes back (a sequence's
 * events, FleetReady or FleetFailed, a ClusterSnapshot). Each maps onto its message of
 * {@code coordinator_protocol.proto}; actor references travel as their serialized paths.
 *
 * <p>A sequence event's {@code nanos} (System.nanoTime) means nothing in another process: an event
 * read from the wire is stamped with its arrival there, so the API node times its requests on its own
 * clock. RunBenchmark has no mapping: a benchmark runs on the node that hosts the Coordinator.
 */
public final class CoordinatorProtocolSerializer extends SerializerWithStringManifest {
  /** Pekko reserves identifiers 0–40; the agents' protocol has 7301. */
  public static final int IDENTIFIER = 7302;

  private final ActorRefResolver resolver;

  public CoordinatorProtocolSerializer(ExtendedActorSystem system) {
    this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof Coordinator.Submit) return "Submit";
    if (o instanceof Coordinator.Cancel) return "Cancel";
    if (o instanceof Coordinator.LoadFleet) return "LoadFleet";
    if (o instanceof Coordinator.GetClusterState) return "GetClusterState";
    if (o instanceof Coordinator.FleetReady) return "FleetReady";
    if (o instanceof Coordinator.FleetFailed) return "FleetFailed";
    if (o instanceof ClusterSnapshot) return "ClusterSnapshot";
    if (o instanceof SequenceEvent.Accepted) return "Accepted";
    if (o instanceof SequenceEvent.Tokens) return "Tokens";
    if (o instanceof SequenceEvent.Finished) return "Finished";
    if (o instanceof SequenceEvent.Failed) return "Failed";
    if (o instanceof SequenceEvent.Migrated) return "Migrated";
    throw new IllegalArgumentException("no wire mapping for " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    return toProto(o).toByteArray();
  }

  private com.google.protobuf.Message toProto(Object o) {
    if (o instanceof Coordinator.Submit m) {
      var b = io.decodefleet.protocol.coordinator.Submit.newBuilder().setRequestId(m.requestId())
          .setMaxTokens(m.maxTokens()).setWorldSize(m.worldSize()).setPlacement(m.placement())
          .setSubscriber(ref(m.subscriber()));
      for (int t : m.prompt()) b.addPrompt(t);
      if (!m.sampling().equals(SamplingParams.GREEDY)) b.setSampling(SamplingWire.toProto(m.sampling()));
      return b.build();
    } else if (o instanceof Coordinator.Cancel m) {
      return io.decodefleet.protocol.coordinator.Cancel.newBuilder().setRequestId(m.requestId())
          .setSubscriber(ref(m.subscriber())).build();
    } else if (o instanceof Coordinator.LoadFleet m) {
      var b = io.decodefleet.protocol.coordinator.LoadFleet.newBuilder().setWorldSize(m.worldSize())
          .setModel(ModelSpecWire.toProto(m.model())).setTimeoutMillis(m.timeout().toMillis())
          .setLayout(m.layout().label()).setAdopt(m.adopt()).setReplyTo(ref(m.replyTo()));
      if (m.layout() instanceof ParallelLayout.Disaggregated d) b.setTransfer(d.transfer().label());
      return b.build();
    } else if (o instanceof Coordinator.GetClusterState m) {
      return io.decodefleet.protocol.coordinator.GetClusterState.newBuilder().setReplyTo(ref(m.replyTo())).build();
    } else if (o instanceof Coordinator.FleetReady m) {
      return io.decodefleet.protocol.coordinator.FleetReady.newBuilder()
          .setState(ClusterSnapshotWire.toProto(m.state())).build();
    } else if (o instanceof Coordinator.FleetFailed m) {
      return io.decodefleet.protocol.coordinator.FleetFailed.newBuilder().setReason(m.reason()).build();
    } else if (o instanceof ClusterSnapshot m) {
      return ClusterSnapshotWire.toProto(m);
    }
    return SequenceEventWire.toProto((SequenceEvent) o, this::ref);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      return fromProto(bytes, manifest);
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new NotSerializableException("cannot read " + manifest + ": " + e.getMessage());
    }
  }

  private Object fromProto(byte[] bytes, String manifest)
      throws InvalidProtocolBufferException, NotSerializableException {
    switch (manifest) {
      case "Submit": {
        var p = io.decodefleet.protocol.coordinator.Submit.parseFrom(bytes);
        return new Coordinator.Submit(p.getRequestId(), p.getPromptList().stream().mapToInt(Integer::intValue)
            .toArray(), p.getMaxTokens(), SamplingWire.fromProto(p.hasSampling(), p.getSampling()), p.getWorldSize(),
            p.getPlacement(), resolve(p.getSubscriber()));
      }
      case "Cancel": {
        var p = io.decodefleet.protocol.coordinator.Cancel.parseFrom(bytes);
        return new Coordinator.Cancel(p.getRequestId(), resolve(p.getSubscriber()));
      }
      case "LoadFleet": {
        var p = io.decodefleet.protocol.coordinator.LoadFleet.parseFrom(bytes);
        KvTransferMode transfer = p.getTransfer().isEmpty() ? KvTransferMode.GRAPH : KvTransferMode.parse(p.getTransfer());
        return new Coordinator.LoadFleet(p.getWorldSize(), ModelSpecWire.fromProto(p.getModel()),
            Duration.ofMillis(p.getTimeoutMillis()), ParallelLayout.parse(p.getLayout(), transfer), p.getAdopt(),
            resolve(p.getReplyTo()));
      }
      case "GetClusterState":
        return new Coordinator.GetClusterState(resolve(
            io.decodefleet.protocol.coordinator.GetClusterState.parseFrom(bytes).getReplyTo()));
      case "FleetReady":
        return new Coordinator.FleetReady(ClusterSnapshotWire.fromProto(
            io.decodefleet.protocol.coordinator.FleetReady.parseFrom(bytes).getState()));
      case "FleetFailed":
        return new Coordinator.FleetFailed(io.decodefleet.protocol.coordinator.FleetFailed.parseFrom(bytes).getReason());
      case "ClusterSnapshot":
        return ClusterSnapshotWire.fromProto(io.decodefleet.protocol.coordinator.ClusterSnapshot.parseFrom(bytes));
      default: {
        SequenceEvent e = SequenceEventWire.fromProto(manifest, bytes, this::resolve);
        if (e == null) throw new NotSerializableException("unknown coordinator manifest '" + manifest + "'");
        return e;
      }
    }
  }

  private String ref(ActorRef<?> ref) {
    return resolver.toSerializationFormat(ref);
  }

  private <T> ActorRef<T> resolve(String path) {
    return resolver.resolveActorRef(path);
  }

  /** The outer class is referenced so the descriptor is initialised once, eagerly. */
  static final Object DESCRIPTOR = CoordinatorProtocol.getDescriptor();
}
