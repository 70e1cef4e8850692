package io.decodefleet.deploy;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Where the pod spec of each workload kind lives in its JSON tree. */
final class PodSpecs {
  private PodSpecs() {}

  /** The pod spec of a Pod, a workload's template, or a CronJob's job template; missing node if none. */
  static JsonNode podSpec(JsonNode object) {
    return switch (object.path("kind").asString("")) {
      case "Pod" -> object.path("spec");
      case "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job" -> object.path("spec").path("template").path("spec");
      case "CronJob" -> object.path("spec").path("jobTemplate").path("spec").path("template").path("spec");
      default -> object.path("no pod spec");
    };
  }

  /** Containers and init containers, as mutable nodes. */
  static List<ObjectNode> containers(JsonNode object) {
    JsonNode spec = podSpec(object);
    List<ObjectNode> all = new ArrayList<>();
    for (String field : List.of("initContainers", "containers")) {
      for (JsonNode c : spec.path(field)) all.add((ObjectNode) c);
    }
    return all;
  }
}
