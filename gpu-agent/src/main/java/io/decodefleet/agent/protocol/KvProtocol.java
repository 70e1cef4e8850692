package io.decodefleet.agent.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.decodefleet.agent.engine.kv.KvTransferOutcome;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The protobuf mapping of the KV-transfer messages (KV group bootstrap, transfers), for
 * {@link ProtocolSerializer}: kept apart so the serializer's core messages stay readable. Actor
 * references cross as serialized paths, through the serializer's resolver.
 */
final class KvProtocol {

  private KvProtocol() {}

  /** The protobuf message of {@code o}, or null when {@code o} is not a KV-transfer message. */
  static com.google.protobuf.Message toProto(Object o, Function<ActorRef<?>, String> ref) {
    if (o instanceof AgentCommand.CreateKvGroupId m) {
      return io.decodefleet.protocol.cluster.CreateKvGroupId.newBuilder().setReplyTo(ref.apply(m.replyTo())).build();
    } else if (o instanceof AgentCommand.JoinKvGroup m) {
      return io.decodefleet.protocol.cluster.JoinKvGroup.newBuilder().setId(ByteString.copyFrom(m.id()))
          .setRank(m.rank()).setNranks(m.nranks()).addAllPeers(m.peers()).setTransferMode(m.transferMode())
          .setTimeoutMillis(m.timeoutMillis()).setReplyTo(ref.apply(m.replyTo())).build();
    } else if (o instanceof AgentCommand.AbortKvGroup m) {
      return io.decodefleet.protocol.cluster.AbortKvGroup.newBuilder().setReason(m.reason()).build();
    } else if (o instanceof AgentCommand.SendKv m) {
      return io.decodefleet.protocol.cluster.SendKv.newBuilder().setSequenceId(m.sequenceId())
          .setPeerRank(m.peerRank()).build();
    } else if (o instanceof AgentCommand.ReceiveKv m) {
      var b = io.decodefleet.protocol.cluster.ReceiveKv.newBuilder().setSequenceId(m.sequenceId())
          .setMaxTokens(m.maxTokens()).setNumComputedTokens(m.numComputedTokens()).setPeerRank(m.peerRank());
      for (int t : m.promptTokens()) b.addPromptTokens(t);
      for (int t : m.outputTokens()) b.addOutputTokens(t);
      if (!m.sampling().equals(io.decodefleet.agent.engine.sampling.SamplingParams.GREEDY)) {
        b.setSampling(SamplingWire.toProto(m.sampling()));
      }
      return b.build();
    } else if (o instanceof AgentReport.KvGroupId m) {
      return io.decodefleet.protocol.cluster.KvGroupId.newBuilder().setAgentId(m.agentId())
          .setId(ByteString.copyFrom(m.id())).build();
    } else if (o instanceof AgentReport.KvGroupJoined m) {
      return io.decodefleet.protocol.cluster.KvGroupJoined.newBuilder().setAgentId(m.agentId()).setRank(m.rank())
          .setDetail(m.detail()).build();
    } else if (o instanceof AgentReport.KvGroupFailed m) {
      return io.decodefleet.protocol.cluster.KvGroupFailed.newBuilder().setAgentId(m.agentId())
          .setReason(m.reason()).build();
    } else if (o instanceof AgentReport.KvReady m) {
      return io.decodefleet.protocol.cluster.KvReady.newBuilder().setAgentId(m.agentId())
          .setSequenceId(m.sequenceId()).setNumComputedTokens(m.numComputedTokens()).build();
    } else if (o instanceof AgentReport.KvTransferred m) {
      return io.decodefleet.protocol.cluster.KvTransferred.newBuilder().setAgentId(m.agentId())
          .setSequenceId(m.sequenceId()).setSender(m.sender()).setBytes(m.bytes())
          .setDeviceMillis(m.deviceMillis())
          .setOutcome(io.decodefleet.protocol.cluster.KvTransferred.Outcome.valueOf(m.outcome().name()))
          .setDetail(m.detail()).build();
    }
    return null;
  }

  /** The message of {@code manifest}, or null when it names no KV-transfer message. */
  static Object fromProto(String manifest, byte[] bytes, Function<String, ActorRef<AgentReport>> resolve)
      throws InvalidProtocolBufferException {
    switch (manifest) {
      case "CreateKvGroupId":
        return new AgentCommand.CreateKvGroupId(
            resolve.apply(io.decodefleet.protocol.cluster.CreateKvGroupId.parseFrom(bytes).getReplyTo()));
      case "JoinKvGroup": {
        var p = io.decodefleet.protocol.cluster.JoinKvGroup.parseFrom(bytes);
        return new AgentCommand.JoinKvGroup(p.getId().toByteArray(), p.getRank(), p.getNranks(),
            List.copyOf(p.getPeersList()), p.getTransferMode(), p.getTimeoutMillis(), resolve.apply(p.getReplyTo()));
      }
      case "AbortKvGroup":
        return new AgentCommand.AbortKvGroup(io.decodefleet.protocol.cluster.AbortKvGroup.parseFrom(bytes).getReason());
      case "SendKv": {
        var p = io.decodefleet.protocol.cluster.SendKv.parseFrom(bytes);
        return new AgentCommand.SendKv(p.getSequenceId(), p.getPeerRank());
      }
      case "ReceiveKv": {
        var p = io.decodefleet.protocol.cluster.ReceiveKv.parseFrom(bytes);
        return new AgentCommand.ReceiveKv(p.getSequenceId(), ints(p.getPromptTokensList()), ints(p.getOutputTokensList()),
            p.getMaxTokens(), p.getNumComputedTokens(), p.getPeerRank(),
            SamplingWire.fromProto(p.hasSampling(), p.getSampling()));
      }
      case "KvGroupId": {
        var p = io.decodefleet.protocol.cluster.KvGroupId.parseFrom(bytes);
        return new AgentReport.KvGroupId(p.getAgentId(), p.getId().toByteArray());
      }
      case "KvGroupJoined": {
        var p = io.decodefleet.protocol.cluster.KvGroupJoined.parseFrom(bytes);
        return new AgentReport.KvGroupJoined(p.getAgentId(), p.getRank(), p.getDetail());
      }
      case "KvGroupFailed": {
        var p = io.decodefleet.protocol.cluster.KvGroupFailed.parseFrom(bytes);
        return new AgentReport.KvGroupFailed(p.getAgentId(), p.getReason());
      }
      case "KvReady": {
        var p = io.decodefleet.protocol.cluster.KvReady.parseFrom(bytes);
        return new AgentReport.KvReady(p.getAgentId(), p.getSequenceId(), p.getNumComputedTokens());
      }
      case "KvTransferred": {
        var p = io.decodefleet.protocol.cluster.KvTransferred.parseFrom(bytes);
        if (p.getOutcome() == io.decodefleet.protocol.cluster.KvTransferred.Outcome.UNRECOGNIZED) {
          throw new InvalidProtocolBufferException("KvTransferred: unknown outcome " + p.getOutcomeValue());
        }
        return new AgentReport.KvTransferred(p.getAgentId(), p.getSequenceId(), p.getSender(), p.getBytes(),
            p.getDeviceMillis(), KvTransferOutcome.valueOf(p.getOutcome().name()), p.getDetail());
      }
      default:
        return null;
    }
  }

  private static int[] ints(List<Integer> list) {
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) out[i] = list.get(i);
    return out;
  }
}
