package io.decodefleet.coordinator.placement;

import java.util.List;
import java.util.Locale;

/** Picks the agent that serves a request. Called on the coordinator's actor thread only. */
public interface PlacementPolicy {
  /** The policy a run or a Generate call gets when none is named (the CLI's and the API's default). */
  String DEFAULT = "least-loaded";

  /**
   * @param agents the run's live agents, never empty
   * @param tokens prompt + max output tokens of the request
   * @return the chosen agent's position in {@code agents}
   */
  int choose(List<AgentLoad> agents, int tokens);

  String name();

  static List<String> names() {
    return List.of("least-loaded", "round-robin");
  }

  /** The policy of that name, or an IllegalArgumentException listing the known ones. */
  static PlacementPolicy named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "least-loaded" -> new LeastLoaded();
      case "round-robin" -> new RoundRobin();
      default -> throw new IllegalArgumentException(
          "unknown placement '" + name + "' (known: " + String.join(", ", names()) + ")");
    };
  }
}
