package io.decodefleet.coordinator.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.coordinator.fleet.SequenceEvent;
import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The protobuf mapping of a sequence's events. An event read from the wire is stamped with its
 * arrival ({@code System.nanoTime()} here): the sender's clock means nothing in this process.
 */
final class SequenceEventWire {
  private SequenceEventWire() {}

  static com.google.protobuf.Message toProto(SequenceEvent e, Function<ActorRef<?>, String> ref) {
    if (e instanceof SequenceEvent.Accepted m) {
      return io.decodefleet.protocol.coordinator.SequenceAccepted.newBuilder().setRequestId(m.requestId())
          .setCoordinator(ref.apply(m.coordinator())).build();
    } else if (e instanceof SequenceEvent.Tokens m) {
      var b = io.decodefleet.protocol.coordinator.SequenceTokens.newBuilder().setRequestId(m.requestId())
          .setAgentId(m.agentId());
      for (int t : m.tokens()) b.addTokens(t);
      return b.build();
    } else if (e instanceof SequenceEvent.Finished m) {
      var b = io.decodefleet.protocol.coordinator.SequenceFinished.newBuilder().setRequestId(m.requestId())
          .setAgentId(m.agentId()).setPreemptions(m.preemptions()).setReason(m.reason()).setQueueNanos(m.queueNanos())
          .setPrefillNanos(m.prefillNanos());
      VerifyResult v = m.verify();
      if (v != null) {
        b.setVerify(io.decodefleet.protocol.cluster.VerifyResult.newBuilder().setChecked(v.checked())
            .setPassed(v.passed()).setMaxRelError(v.maxRelError()).setStepsChecked(v.stepsChecked())
            .setDetail(v.detail()).setTolerance(v.tolerance()));
      }
      return b.build();
    } else if (e instanceof SequenceEvent.Failed m) {
      return io.decodefleet.protocol.coordinator.SequenceFailed.newBuilder().setRequestId(m.requestId())
          .setKind(m.kind().name()).setReason(m.reason()).build();
    } else if (e instanceof SequenceEvent.Migrated m) {
      return io.decodefleet.protocol.coordinator.SequenceMigrated.newBuilder().setRequestId(m.requestId())
          .setFromAgent(m.fromAgent()).setToAgent(m.toAgent()).setCause(m.cause()).build();
    }
    throw new IllegalArgumentException("no wire mapping for " + e.getClass().getName());
  }

  /** The event of {@code manifest}, or null when the manifest names none. */
  static SequenceEvent fromProto(String manifest, byte[] bytes, Function<String, ActorRef<Object>> resolve)
      throws InvalidProtocolBufferException {
    long now = System.nanoTime();
    switch (manifest) {
      case "Accepted": {
        var p = io.decodefleet.protocol.coordinator.SequenceAccepted.parseFrom(bytes);
        return new SequenceEvent.Accepted(p.getRequestId(), resolve.apply(p.getCoordinator()));
      }
      case "Tokens": {
        var p = io.decodefleet.protocol.coordinator.SequenceTokens.parseFrom(bytes);
        return new SequenceEvent.Tokens(p.getRequestId(), p.getTokensList().stream().mapToInt(Integer::intValue)
            .toArray(), p.getAgentId(), now);
      }
      case "Finished": {
        var p = io.decodefleet.protocol.coordinator.SequenceFinished.parseFrom(bytes);
        var v = p.getVerify();
        VerifyResult verify = p.hasVerify() ? new VerifyResult(v.getChecked(), v.getPassed(), v.getMaxRelError(),
            v.getStepsChecked(), v.getDetail(), v.getTolerance()) : null;
        return new SequenceEvent.Finished(p.getRequestId(), p.getAgentId(), p.getPreemptions(), verify, p.getReason(),
            p.getQueueNanos(), p.hasPrefillNanos() ? p.getPrefillNanos() : -1, now);
      }
      case "Failed": {
        var p = io.decodefleet.protocol.coordinator.SequenceFailed.parseFrom(bytes);
        return new SequenceEvent.Failed(p.getRequestId(), FailureKind.valueOf(p.getKind()), p.getReason(), now);
      }
      case "Migrated": {
        var p = io.decodefleet.protocol.coordinator.SequenceMigrated.parseFrom(bytes);
        return new SequenceEvent.Migrated(p.getRequestId(), p.getFromAgent(), p.getToAgent(), p.getCause());
      }
      default:
        return null;
    }
  }
}
