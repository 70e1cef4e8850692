package io.decodefleet.deploy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fields fabric8 did not recognise. Its model classes keep every unknown property in
 * {@code additionalProperties} instead of failing, so a misspelt field ("terminationGracePeriodSecond")
 * would parse silently; walking the typed object graph and collecting those maps finds it.
 */
final class UnknownFields {
  private UnknownFields() {}

  private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model";

  /** "path: [names]" for every model object on the graph with unknown properties; empty if none. */
  static List<String> in(Object model) {
    List<String> found = new ArrayList<>();
    walk(model, "", found);
    return found;
  }

  private static void walk(Object node, String path, List<String> found) {
    if (node == null) return;
    if (node instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) walk(list.get(i), path + "[" + i + "]", found);
      return;
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) walk(e.getValue(), path + "." + e.getKey(), found);
      return;
    }
    if (!node.getClass().getName().startsWith(MODEL_PACKAGE)) return;
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
        continue;
      }
      Object value = invoke(getter, node);
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) found.add((path.isEmpty() ? "." : path) + ": " + extra.keySet());
      } else {
        walk(value, path + "." + property(getter.getName()), found);
      }
    }
  }

  private static Object invoke(Method getter, Object node) {
    try {
      return getter.invoke(node);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + getter + ": " + e, e);
    }
  }

  private static String property(String getter) {
    return Character.toLowerCase(getter.charAt(3)) + getter.substring(4);
  }
}
