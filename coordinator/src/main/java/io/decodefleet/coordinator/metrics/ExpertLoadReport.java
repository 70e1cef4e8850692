package io.decodefleet.coordinator.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.agent.engine.ExpertLoad;
import java.util.Locale;

/**
 * A run's expert load (a mixture of experts: tokens each expert of each layer took over the run's
 * steps, every agent summed) as report.json's "expert_load" and the console's one line.
 */
public final class ExpertLoadReport {

  private ExpertLoadReport() {}

  /**
   * "expert_load": "layers", "experts", "token_expert_pairs", "dropped", "max_imbalance" (the busiest
   * expert's tokens over the mean, worst layer; null where nothing ran), and "per_layer": one object
   * per layer with "layer", "tokens" (per expert), "dropped" (per expert) and "imbalance".
   */
  public static ObjectNode json(ObjectMapper mapper, ExpertLoad load) {
    ObjectNode node = mapper.createObjectNode();
    node.put("layers", load.layers());
    node.put("experts", load.experts());
    long pairs = 0;
    long dropped = 0;
    for (int l = 0; l < load.layers(); l++) {
      pairs += load.layerTokens(l);
      dropped += load.layerDropped(l);
    }
    node.put("token_expert_pairs", pairs);
    node.put("dropped", dropped);
    number(node, "max_imbalance", load.maxImbalance());
    ArrayNode layers = node.putArray("per_layer");
    for (int l = 0; l < load.layers(); l++) {
      ObjectNode layer = layers.addObject();
      layer.put("layer", l);
      ArrayNode tokens = layer.putArray("tokens");
      ArrayNode drops = layer.putArray("dropped");
      for (int e = 0; e < load.experts(); e++) {
        tokens.add(load.tokens(l, e));
        drops.add(load.dropped(l, e));
      }
      number(layer, "imbalance", load.imbalance(l));
    }
    return node;
  }

  /**
   * One line: e.g. "Expert load: 4 layers x 8 experts, 1040 token-expert pairs, imbalance max/mean
   * 1.62 (worst layer 2), per layer 1.31 1.40 1.62 1.20, 0 dropped".
   */
  public static String line(ExpertLoad load) {
    StringBuilder perLayer = new StringBuilder();
    for (int l = 0; l < load.layers(); l++) {
      double i = load.imbalance(l);
      perLayer.append(' ').append(Double.isNaN(i) ? "n/a" : String.format(Locale.ROOT, "%.2f", i));
    }
    String d = load.describe();
    int cut = d.lastIndexOf(", ");
    return "Expert load: " + d.substring("expert load: ".length(), cut) + ", per layer" + perLayer + d.substring(cut);
  }

  private static void number(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else {
      node.putNull(key);
    }
  }
}
