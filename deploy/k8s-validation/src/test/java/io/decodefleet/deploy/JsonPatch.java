package io.decodefleet.deploy;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * RFC 6902 JSON Patch, the operations a kustomization's JSON6902 patches use here: add, remove,
 * replace and test (a failed test fails the render, as in kustomize). Paths are RFC 6901 pointers
 * ("~1" is "/", "~0" is "~"; "-" appends to an array).
 */
final class JsonPatch {
  private JsonPatch() {}

  /** A patched copy of target; where names the patch in error messages. */
  static JsonNode apply(JsonNode target, JsonNode operations, String where) {
    if (!operations.isArray()) throw new IllegalArgumentException(where + ": a JSON6902 patch is a list of operations");
    JsonNode doc = target.deepCopy();
    int index = 0;
    for (JsonNode op : operations) {
      String at = where + ", operation " + index++;
      String name = op.path("op").asString("");
      List<String> path = pointer(op.path("path").asString(null), at);
      switch (name) {
        case "add" -> add(doc, path, value(op, at), at);
        case "remove" -> remove(doc, path, at);
        case "replace" -> {
          remove(doc, path, at);
          add(doc, path, value(op, at), at);
        }
        case "test" -> {
          JsonNode actual = resolve(doc, path, at);
          if (!actual.equals(value(op, at))) {
            throw new IllegalArgumentException(at + ": test failed at " + op.path("path").asString()
                + ": expected " + value(op, at) + ", found " + actual);
          }
        }
        default -> throw new IllegalArgumentException(at + ": op '" + name + "' is not supported (add, remove, "
            + "replace, test)");
      }
    }
    return doc;
  }

  private static JsonNode value(JsonNode op, String at) {
    if (!op.has("value")) throw new IllegalArgumentException(at + ": 'value' is missing");
    return op.get("value").deepCopy();
  }

  static List<String> pointer(String path, String at) {
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException(at + ": path must start with '/', got " + path);
    }
    List<String> tokens = new ArrayList<>();
    for (String raw : path.substring(1).split("/", -1)) tokens.add(raw.replace("~1", "/").replace("~0", "~"));
    return tokens;
  }

  private static JsonNode resolve(JsonNode doc, List<String> path, String at) {
    JsonNode node = doc;
    for (String token : path) {
      node = child(node, token, at);
    }
    return node;
  }

  private static JsonNode child(JsonNode node, String token, String at) {
    JsonNode next = node.isArray() ? node.get(index(node, token, false, at)) : node.isObject() ? node.get(token) : null;
    if (next == null) throw new IllegalArgumentException(at + ": no member '" + token + "'");
    return next;
  }

  private static void add(JsonNode doc, List<String> path, JsonNode value, String at) {
    JsonNode parent = resolve(doc, path.subList(0, path.size() - 1), at);
    String last = path.get(path.size() - 1);
    if (parent instanceof ObjectNode object) {
      object.set(last, value);
    } else if (parent instanceof ArrayNode array) {
      if (last.equals("-")) array.add(value);
      else array.insert(index(array, last, true, at), value);
    } else {
      throw new IllegalArgumentException(at + ": cannot add '" + last + "' to a scalar");
    }
  }

  private static void remove(JsonNode doc, List<String> path, String at) {
    JsonNode parent = resolve(doc, path.subList(0, path.size() - 1), at);
    String last = path.get(path.size() - 1);
    if (parent instanceof ObjectNode object) {
      if (object.remove(last) == null) throw new IllegalArgumentException(at + ": no member '" + last + "'");
    } else if (parent instanceof ArrayNode array) {
      array.remove(index(array, last, false, at));
    } else {
      throw new IllegalArgumentException(at + ": cannot remove '" + last + "' from a scalar");
    }
  }

  private static int index(JsonNode array, String token, boolean mayEqualSize, String at) {
    int i;
    try {
      i = Integer.parseInt(token);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(at + ": '" + token + "' is not an array index");
    }
    int max = mayEqualSize ? array.size() : array.size() - 1;
    if (i < 0 || i > max) throw new IllegalArgumentException(at + ": index " + i + " out of range (size " + array.size() + ")");
    return i;
  }
}
