package io.decodefleet.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package map of docs/ARCHITECTURE.md, checked on the main sources of every Java module: packages
 * form no import cycle, the engine knows neither the wire protocol nor the actor, files stay readable
 * and run results are typed. The graph comes from the sources themselves (imports and fully qualified
 * names), so a new dependency is seen the moment it is written.
 */
class PackageStructureTest {

  /** Module folders, relative to the repository root, whose main sources are checked. */
  private static final List<String> MODULES = List.of("kernels", "gpu-agent", "coordinator");
  private static final int MAX_LINES = 450;
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
  /** An import or a qualified use of one of our types: the package is everything before the first capital. */
  private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.decodefleet(?:\\.[a-z][a-z0-9_]*)+)\\.[A-Z]");

  private static final Map<Path, String> SOURCES = new TreeMap<>();
  /** package → packages it uses (its own excluded) */
  private static final Map<String, Set<String>> USES = new TreeMap<>();

  @BeforeAll
  static void readSources() {
    Path root = repositoryRoot();
    for (String module : MODULES) {
      Path main = root.resolve(module).resolve("src/main/java");
      try (Stream<Path> files = Files.walk(main)) {
        files.filter(p -> p.toString().endsWith(".java")).forEach(p -> SOURCES.put(root.relativize(p), read(p)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    for (String text : SOURCES.values()) {
      String pkg = packageOf(text);
      Set<String> uses = USES.computeIfAbsent(pkg, k -> new TreeSet<>());
      Matcher m = REFERENCE.matcher(stripComments(text));
      while (m.find()) {
        if (!m.group(1).equals(pkg)) {
          uses.add(m.group(1));
        }
      }
    }
  }

  @Test
  void sourcesWereFound() {
    assertTrue(SOURCES.size() > 200, "found only " + SOURCES.size() + " main sources");
    assertTrue(USES.containsKey("io.decodefleet.agent.engine"), "no engine package among " + USES.keySet());
  }

  @Test
  void noImportCycleBetweenPackages() {
    List<List<String>> cycles = stronglyConnected().stream().filter(c -> c.size() > 1).toList();
    List<String> described = new ArrayList<>();
    for (List<String> cycle : cycles) {
      StringBuilder s = new StringBuilder(String.join(", ", cycle)).append(": ");
      for (String from : cycle) {
        for (String to : USES.getOrDefault(from, Set.of())) {
          if (cycle.contains(to)) {
            s.append(from).append(" -> ").append(to).append("; ");
          }
        }
      }
      described.add(s.toString());
    }
    assertEquals(List.of(), described, "packages that import each other, directly or through others");
  }

  @Test
  void engineKnowsNeitherTheWireProtocolNorTheActor() {
    List<String> wrong = new ArrayList<>();
    USES.forEach((pkg, uses) -> {
      if (pkg.equals("io.decodefleet.agent.engine") || pkg.startsWith("io.decodefleet.agent.engine.")) {
        for (String used : uses) {
          if (used.equals("io.decodefleet.agent") || used.startsWith("io.decodefleet.agent.protocol")
              || used.startsWith("io.decodefleet.protocol")) {
            wrong.add(pkg + " -> " + used);
          }
        }
      }
    });
    SOURCES.forEach((path, text) -> {
      if (packageOf(text).startsWith("io.decodefleet.agent.engine") && text.contains("import org.apache.pekko")) {
        wrong.add(path + " imports Pekko");
      }
    });
    assertEquals(List.of(), wrong);
  }

  @Test
  void noMainSourceFileIsTooLongToReadInOneSitting() {
    List<String> longFiles = new ArrayList<>();
    SOURCES.forEach((path, text) -> {
      long lines = text.lines().count();
      if (lines > MAX_LINES) {
        longFiles.add(path + " (" + lines + " lines)");
      }
    });
    assertEquals(List.of(), longFiles, "files over " + MAX_LINES + " lines");
  }

  @Test
  void runResultsAreTypedNotStringKeyedMaps() {
    // Config overrides (ConfigFactory.parseMap) are the one legitimate use of an untyped map.
    List<String> untyped = new ArrayList<>();
    SOURCES.forEach((path, text) -> {
      if (path.startsWith("coordinator") && text.contains("Map<String, Object>") && !text.contains("parseMap")) {
        untyped.add(path.toString());
      }
    });
    assertEquals(List.of(), untyped, "coordinator sources passing Map<String, Object> around");
  }

  /** Tarjan's algorithm over the package graph; each component is sorted. */
  private static List<List<String>> stronglyConnected() {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<List<String>> components = new ArrayList<>();
    int[] counter = {0};
    for (String v : USES.keySet()) {
      if (!index.containsKey(v)) {
        connect(v, index, low, stack, onStack, components, counter);
      }
    }
    return components;
  }

  private static void connect(String v, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack,
      Set<String> onStack, List<List<String>> components, int[] counter) {
    index.put(v, counter[0]);
    low.put(v, counter[0]);
    counter[0]++;
    stack.push(v);
    onStack.add(v);
    for (String w : USES.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, index, low, stack, onStack, components, counter);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      List<String> component = new ArrayList<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      component.sort(null);
      components.add(component);
    }
  }

  private static String packageOf(String text) {
    Matcher m = PACKAGE.matcher(text);
    return m.find() ? m.group(1) : "";
  }

  /** Comments may name types ({@link ...}) without depending on them. */
  private static String stripComments(String text) {
    return text.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
  }

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("coordinator").resolve("pom.xml"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
