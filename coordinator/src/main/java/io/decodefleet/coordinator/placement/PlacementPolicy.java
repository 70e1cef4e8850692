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

  /** Whether {@link #choose} reads {@link AgentLoad#cachedPrefixBlocks} (worth hashing the prompt for). */
  default boolean readsPrefixCaches() {
    return false;
  }

  static List<String> names() {
    return List.of("least-loaded", "round-robin", "prefix-aware");
  }

  /**
   * The policy of that name, or an IllegalArgumentException listing the known ones.
   * {@code prefix-aware:W} sets the prefix-aware policy's load weight (default {@value
   * PrefixAware#DEFAULT_LOAD_WEIGHT}).
   */
  static PlacementPolicy named(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.startsWith("prefix-aware:")) {
      String weight = lower.substring("prefix-aware:".length());
      try {
        return new PrefixAware(Double.parseDouble(weight));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("placement prefix-aware:W needs a number W >= 0, got '" + weight + "'");
      }
    }
    return switch (lower) {
      case "least-loaded" -> new LeastLoaded();
      case "round-robin" -> new RoundRobin();
      case "prefix-aware" -> new PrefixAware(PrefixAware.DEFAULT_LOAD_WEIGHT);
      default -> throw new IllegalArgumentException(
          "unknown placement '" + name + "' (known: " + String.join(", ", names()) + ")");
    };
  }
}
