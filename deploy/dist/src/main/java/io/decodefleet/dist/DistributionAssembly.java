package io.decodefleet.dist;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Builds {@code decodefleet-<version>-linux-x86_64.tar.xz}, the distribution for GPU hosts without a
 * JDK. Layout under the top folder {@code decodefleet-<version>/}:
 * <pre>
 *   bin/coordinator, bin/gpu-agent   launchers: runtime/bin/java -cp 'lib/*' &lt;main class&gt;
 *   runtime/                         jlink image (see {@link RuntimeImage})
 *   lib/                             the coordinator's runtime jars, entries stored (see {@link StoredJar})
 * </pre>
 * Run by the module's build ({@code mvn -pl deploy/dist -am package}) with {@code --key=value} options.
 */
public final class DistributionAssembly {

  /** Where everything comes from and goes, parsed from {@code --key=value} arguments. */
  record Options(Path jdk, Path classpathFile, Path launchers, Path staging, String name,
      int xzPreset, int xzThreads, Path out) {

    private static final List<String> KEYS =
        List.of("jdk", "classpath", "launchers", "staging", "name", "xz-preset", "xz-threads", "out");

    static Options parse(String... args) {
      Map<String, String> values = new HashMap<>();
      for (String arg : args) {
        int eq = arg.indexOf('=');
        String key = arg.startsWith("--") && eq > 2 ? arg.substring(2, eq) : null;
        if (key == null || !KEYS.contains(key)) {
          throw new IllegalArgumentException("unknown argument " + arg + "; expected --key=value with key one of "
              + KEYS);
        }
        values.put(key, arg.substring(eq + 1));
      }
      for (String key : KEYS) {
        if (values.getOrDefault(key, "").isBlank()) {
          throw new IllegalArgumentException("--" + key + " is missing");
        }
      }
      return new Options(Path.of(values.get("jdk")), Path.of(values.get("classpath")),
          Path.of(values.get("launchers")), Path.of(values.get("staging")), values.get("name"),
          integer(values, "xz-preset"), integer(values, "xz-threads"), Path.of(values.get("out")));
    }

    private static int integer(Map<String, String> values, String key) {
      try {
        return Integer.parseInt(values.get(key));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + key + " must be an integer, got " + values.get(key));
      }
    }
  }

  private DistributionAssembly() {}

  public static void main(String[] args) {
    try {
      assemble(Options.parse(args));
    } catch (IOException | RuntimeException e) {
      System.err.println("decodefleet-dist: " + e.getMessage());
      System.exit(1);
    }
  }

  static void assemble(Options options) throws IOException {
    long start = System.nanoTime();
    Path root = options.staging().resolve(options.name());
    deleteTree(root);
    Files.createDirectories(root);

    Path runtime = root.resolve("runtime");
    RuntimeImage.link(options.jdk(), runtime);
    boolean stripped = RuntimeImage.stripJvm(runtime);
    DistributionJars.Staged jars = DistributionJars.stage(options.classpathFile(), root.resolve("lib"));
    List<String> launchers = stageLaunchers(options.launchers(), root.resolve("bin"));
    long staged = System.nanoTime();

    Tarball.write(options.staging(), options.name(), options.out(), options.xzPreset(), options.xzThreads());
    long packed = System.nanoTime();

    System.out.printf(Locale.ROOT, "%s: %.1f MiB (runtime %.1f MiB%s; lib %d jars, %.1f MiB stored from %.1f MiB%s;"
            + " bin %s); staged in %.1f s, xz -%d -T%d in %.1f s%n",
        options.out().getFileName(), mib(Files.size(options.out())),
        mib(treeSize(runtime)), stripped ? ", libjvm.so stripped" : ", strip not found: libjvm.so unstripped",
        jars.jars(), mib(jars.stagedBytes()), mib(jars.sourceBytes()),
        jars.slimmedJcudaNatives() ? ", JCuda natives slimmed to the driver library" : ", no JCuda natives",
        launchers, (staged - start) / 1e9, options.xzPreset(), options.xzThreads(), (packed - staged) / 1e9);
  }

  /** Copies the launchers, executable by all whatever the modes of the checkout. */
  private static List<String> stageLaunchers(Path from, Path bin) throws IOException {
    if (!Files.isDirectory(from)) {
      throw new IllegalStateException("launcher folder " + from + " is missing");
    }
    Files.createDirectories(bin);
    List<String> names;
    try (Stream<Path> files = Files.list(from)) {
      names = files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
    }
    for (String name : names) {
      Path target = bin.resolve(name);
      Files.copy(from.resolve(name), target);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return names;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static long treeSize(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static double mib(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }
}
