package io.decodefleet.coordinator.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Stack traces in the logs of the soak's processes. A failure the system expects (a node that
 * vanishes, a stream cut short) is logged as one line; a stack trace means something was not
 * expected, so the soak fails on any. A trace is recognised by its frames ({@code at pkg.Class.method(File.java:12)}),
 * {@code Caused by:} lines, or the JVM's {@code Exception in thread} header.
 */
final class LogScan {
  private static final Pattern FRAME = Pattern.compile("^\\s+at [\\w$.<>/]+\\(.*\\)\\s*$");
  private static final Pattern HEADER = Pattern.compile("^(Caused by: |Exception in thread \")");

  /**
   * The first stack trace of one log file.
   *
   * @param line 1-based line number of its first frame (or header)
   * @param lines how many lines of the file look like stack traces
   * @param excerpt the line before it (usually the exception) and the line itself
   */
  record StackTrace(Path file, int line, int lines, String excerpt) {}

  private LogScan() {}

  static List<StackTrace> scan(List<Path> files) throws IOException {
    List<StackTrace> found = new ArrayList<>();
    for (Path file : files) {
      if (!Files.exists(file)) continue;
      List<String> lines = ChildProcess.lines(file);
      int first = -1;
      int count = 0;
      for (int i = 0; i < lines.size(); i++) {
        String l = lines.get(i);
        if (FRAME.matcher(l).matches() || HEADER.matcher(l).find()) {
          if (first < 0) first = i;
          count++;
        }
      }
      if (first >= 0) {
        String excerpt = (first > 0 ? lines.get(first - 1).trim() + " / " : "") + lines.get(first).trim();
        found.add(new StackTrace(file, first + 1, count, excerpt));
      }
    }
    return found;
  }
}
