package io.decodefleet.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way the builder reads it: comments dropped, backslash continuations joined,
 * one instruction a logical line, stages split at FROM, and ${ARG} references resolved from the
 * global ARGs (for FROM) and the stage's ARGs (for the rest), defaults taken from the declarations.
 */
final class Dockerfile {

  record Instruction(int line, String keyword, String arguments) {}

  /** One build stage: its base image (ARGs resolved), its AS name (or null) and its instructions. */
  record Stage(String base, String name, List<Instruction> instructions) {
    List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }
  }

  private static final Pattern FROM = Pattern.compile("(?i)(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?");
  private static final Pattern ARG_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  private final Path file;
  private final List<Stage> stages;

  private Dockerfile(Path file, List<Stage> stages) {
    this.file = file;
    this.stages = List.copyOf(stages);
  }

  static Dockerfile read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> globalArgs = new HashMap<>();
    List<Stage> stages = new ArrayList<>();
    Map<String, String> stageArgs = null;
    List<Instruction> current = null;
    StringBuilder logical = new StringBuilder();
    int start = 0;
    for (int n = 1; n <= lines.size(); n++) {
      String line = lines.get(n - 1);
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && logical.length() == 0)) continue;
      if (logical.length() == 0) start = n;
      if (trimmed.endsWith("\\")) {
        logical.append(trimmed, 0, trimmed.length() - 1).append(' ');
        continue;
      }
      logical.append(trimmed);
      String text = logical.toString().strip();
      logical.setLength(0);
      int space = text.indexOf(' ');
      String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
      String arguments = space < 0 ? "" : text.substring(space + 1).strip();
      if (arguments.contains("<<")) throw new IllegalArgumentException(file + ":" + start + ": heredocs are not supported here");
      if (keyword.equals("FROM")) {
        Matcher m = FROM.matcher(arguments);
        if (!m.matches()) throw new IllegalArgumentException(file + ":" + start + ": cannot read FROM " + arguments);
        stageArgs = new HashMap<>();
        current = new ArrayList<>();
        stages.add(new Stage(substitute(m.group(1), globalArgs), m.group(2), current));
      } else if (keyword.equals("ARG")) {
        String[] decl = arguments.split("=", 2);
        if (current == null) globalArgs.put(decl[0], decl.length > 1 ? unquote(decl[1]) : "");
        else stageArgs.put(decl[0], decl.length > 1 ? unquote(decl[1]) : globalArgs.getOrDefault(decl[0], ""));
        if (current != null) current.add(new Instruction(start, keyword, arguments));
      } else {
        if (current == null) throw new IllegalArgumentException(file + ":" + start + ": " + keyword + " before the first FROM");
        current.add(new Instruction(start, keyword, substitute(arguments, stageArgs)));
      }
    }
    if (stages.isEmpty()) throw new IllegalArgumentException(file + ": no FROM");
    return new Dockerfile(file, stages);
  }

  private static String unquote(String value) {
    String v = value.strip();
    return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
  }

  /** ${NAME} and $NAME of declared ARGs are replaced; anything else (e.g. shell variables) stays. */
  private static String substitute(String text, Map<String, String> args) {
    Matcher m = ARG_REF.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      m.appendReplacement(out, Matcher.quoteReplacement(args.containsKey(name) ? args.get(name) : m.group()));
    }
    m.appendTail(out);
    return out.toString();
  }

  Path file() {
    return file;
  }

  List<Stage> stages() {
    return stages;
  }

  Stage finalStage() {
    return stages.get(stages.size() - 1);
  }

  Stage stage(String name) {
    return stages.stream().filter(s -> name.equals(s.name())).findFirst()
        .orElseThrow(() -> new AssertionError(file + ": no stage named " + name));
  }

  /** The last USER of the final stage: what the container runs as. */
  String user() {
    List<Instruction> users = finalStage().all("USER");
    return users.isEmpty() ? "root" : users.get(users.size() - 1).arguments();
  }

  /** COPY/ADD flags (--from=x, --chown=...) and the source and destination paths. */
  record Copy(Map<String, String> flags, List<String> sources, String destination) {
    static Copy of(Instruction instruction) {
      Map<String, String> flags = new HashMap<>();
      List<String> paths = new ArrayList<>();
      for (String token : instruction.arguments().split("\\s+")) {
        if (token.startsWith("--")) {
          String[] kv = token.substring(2).split("=", 2);
          flags.put(kv[0], kv.length > 1 ? kv[1] : "");
        } else {
          paths.add(token);
        }
      }
      if (paths.size() < 2 || paths.get(0).startsWith("[")) {
        throw new IllegalArgumentException("line " + instruction.line() + ": expected " + instruction.keyword()
            + " [--flags] SRC... DEST, got " + instruction.arguments());
      }
      return new Copy(flags, paths.subList(0, paths.size() - 1), paths.get(paths.size() - 1));
    }
  }
}
