package io.decodefleet.coordinator.observability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The samples of a Prometheus text exposition, to read values back by name and labels. */
final class Exposition {
  /** Series as written ({@code name{a="x",b="y"}}) → value. */
  final Map<String, Double> samples = new TreeMap<>();

  Exposition(String text) {
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
  }

  /** The series named {@code name} that carry every one of {@code labels} ("key=value" pairs). */
  List<Double> values(String name, String... labels) {
    List<Double> out = new ArrayList<>();
    samples.forEach((series, value) -> {
      int brace = series.indexOf('{');
      String n = brace < 0 ? series : series.substring(0, brace);
      if (!n.equals(name)) return;
      for (String label : labels) {
        String[] kv = label.split("=", 2);
        if (!series.contains(kv[0] + "=\"" + kv[1] + "\"")) return;
      }
      out.add(value);
    });
    return out;
  }

  /** The one series named {@code name} with {@code labels}; fails unless there is exactly one. */
  double value(String name, String... labels) {
    List<Double> v = values(name, labels);
    if (v.size() != 1) {
      throw new AssertionError(v.size() + " series " + name + " " + List.of(labels) + " in " + samples.keySet());
    }
    return v.get(0);
  }

  /** The sum over every series named {@code name} with {@code labels}. */
  double sum(String name, String... labels) {
    return values(name, labels).stream().mapToDouble(Double::doubleValue).sum();
  }
}
