package io.decodefleet.deploy;

import java.util.Map;

/** Pod fields the downward API hands to containers, with the values of one example pod. */
final class DownwardApi {
  private DownwardApi() {}

  static final String POD_IP = "10.42.3.17";
  static final String NODE_NAME = "gpu-node-3";
  static final String POD_NAME = "decodefleet-benchmark-x7k2p";

  static final Map<String, String> EXAMPLE = Map.of(
      "status.podIP", POD_IP,
      "spec.nodeName", NODE_NAME,
      "metadata.name", POD_NAME,
      "metadata.namespace", "decodefleet");
}
