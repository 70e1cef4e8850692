package io.decodefleet.agent.protocol;

/**
 * Marker of every message that crosses the wire between cluster nodes. Bound in the Pekko
 * configuration to {@link ProtocolSerializer}, which writes them as the protobuf messages of
 * {@code proto/src/main/proto/cluster_protocol.proto}.
 */
public interface ProtocolMessage {}
