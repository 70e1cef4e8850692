package io.decodefleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball the module's package phase built: its size, its layout, and that the unpacked
 * distribution runs on its own runtime. Runs in the integration-test phase (mvn verify).
 */
class DistributionTarballTest {

  /** The budget is 64 MiB on the wire; 4 MiB stay free so growth is seen before it bites. */
  private static final long LIMIT_BYTES = 60L * 1024 * 1024;

  /** JCuda's 24 MB PTX compiler, libJNvPTXCompiler-<version>-linux-x86_64.so (its Java class may stay). */
  private static final String PTX_COMPILER_LIBRARY = "libJNvPTXCompiler";

  @TempDir
  static Path unpacked;

  private static Path tarball;
  private static Path home;

  @BeforeAll
  static void unpack() throws Exception {
    tarball = Path.of(System.getProperty("decodefleet.dist.tarball", "missing: run through mvn verify"));
    String name = System.getProperty("decodefleet.dist.name", "missing");
    assertTrue(Files.isRegularFile(tarball), tarball + " was not built");
    Result tar = run(List.of("tar", "-xJf", tarball.toString(), "-C", unpacked.toString()), Map.of());
    assertEquals(0, tar.status(), "tar -xJf: " + tar.output());
    home = unpacked.resolve(name);
    assertTrue(Files.isDirectory(home), "the tarball's top folder is " + name);
  }

  @Test
  void tarballStaysUnderSixtyMebibytes() throws IOException {
    long size = Files.size(tarball);
    assertTrue(size <= LIMIT_BYTES, String.format("%s is %.1f MiB, over the 60 MiB limit",
        tarball.getFileName(), size / (1024.0 * 1024.0)));
  }

  @Test
  void launchersAndTheBundledJavaAreExecutable() {
    for (String file : List.of("bin/coordinator", "bin/gpu-agent", "runtime/bin/java")) {
      assertTrue(Files.isRegularFile(home.resolve(file)), file + " is missing");
      assertTrue(Files.isExecutable(home.resolve(file)), file + " is not executable");
    }
  }

  @Test
  void libHoldsTheCoordinatorWithItsUpstreamModulesAndStoresEveryJar() throws IOException {
    List<Path> jars = jars();
    Set<String> names = jars.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    for (String module : List.of("coordinator", "gpu-agent", "kernels", "proto")) {
      assertTrue(names.stream().anyMatch(n -> n.startsWith("decodefleet-" + module + "-")),
          "lib/ has no decodefleet-" + module + " jar: " + new TreeSet<>(names));
    }
    for (Path jar : jars) {
      try (ZipFile zip = new ZipFile(jar.toFile())) {
        Optional<? extends ZipEntry> deflated =
            zip.stream().filter(e -> e.getMethod() != ZipEntry.STORED).findFirst();
        assertFalse(deflated.isPresent(), () -> jar.getFileName() + " has a deflated entry "
            + deflated.get().getName());
      }
    }
  }

  @Test
  void noPtxCompilerLibraryTravelsAndJcudaKeepsItsDriverLibrary() throws IOException {
    try (Stream<Path> files = Files.walk(home)) {
      List<Path> ptx = files.filter(p -> p.getFileName().toString().contains(PTX_COMPILER_LIBRARY)).toList();
      assertEquals(List.of(), ptx);
    }
    Optional<Path> natives = Optional.empty();
    for (Path jar : jars()) {
      try (ZipFile zip = new ZipFile(jar.toFile())) {
        List<String> ptx = zip.stream().map(ZipEntry::getName).filter(n -> n.contains(PTX_COMPILER_LIBRARY)).toList();
        assertEquals(List.of(), ptx, jar.getFileName() + " carries the PTX compiler");
      }
      if (JcudaNatives.isNativesJar(jar.getFileName().toString())) {
        natives = Optional.of(jar);
      }
    }
    assumeTrue(natives.isPresent(), "JCuda is not a dependency of the coordinator yet");
    try (ZipFile zip = new ZipFile(natives.get().toFile())) {
      assertTrue(zip.stream().anyMatch(e -> e.getName().startsWith(JcudaNatives.DRIVER_LIBRARY_PREFIX)),
          natives.get().getFileName() + " lost the driver library");
    }
  }

  @Test
  void coordinatorHelpRunsOnTheBundledRuntimeWithJavaOptsPassedThrough() throws Exception {
    // -XshowSettings:properties prints java.home before main runs: it must be the bundled runtime.
    Result result = run(List.of(home.resolve("bin/coordinator").toString(), "--help"),
        Map.of("JAVA_OPTS", "-XshowSettings:properties -Xmx256m"));

    assertEquals(0, result.status(), result.output());
    assertTrue(result.output().contains("--world-size"), result.output());
    assertTrue(result.output().contains("java.home = " + home.toRealPath().resolve("runtime")), result.output());
  }

  @Test
  void aHuggingFaceTokenizerLoadsItsNativeLibraryFromTheDistribution() throws Exception {
    // A real (if small) tokenizer.json: a word-level model over whitespace-split words.
    Path tokenizer = unpacked.resolve("tok/tokenizer.json");
    Files.createDirectories(tokenizer.getParent());
    Files.writeString(tokenizer, "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": "
        + "[{\"id\": 0, \"content\": \"<unk>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
        + "\"normalized\": false, \"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\": "
        + "\"Whitespace\"}, \"post_processor\": null, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", "
        + "\"vocab\": {\"<unk>\": 0, \"hello\": 1, \"fleet\": 2}, \"unk_token\": \"<unk>\"}}");
    Path cache = unpacked.resolve("cache");

    // No agent joins: serve loads its text (the tokenizer's native library), then gives up waiting.
    Result result = run(List.of(home.resolve("bin/coordinator").toString(), "serve", "--world-size", "1",
        "--tokenizer", tokenizer.toString(), "--agent-timeout", "1", "--grpc-port", "0", "--http-port", "-1"),
        Map.of("DECODEFLEET_CACHE_DIR", cache.toString()));

    assertTrue(result.output().contains("coordinator: tokenizer " + tokenizer + " (3 ids"), result.output());
    try (Stream<Path> files = Files.walk(cache)) {
      assertTrue(files.anyMatch(f -> f.getFileName().toString().equals("libtokenizers.so")),
          "the native library was extracted under DECODEFLEET_CACHE_DIR");
    }
  }

  @Test
  void gpuAgentHelpRunsThroughASymlinkFromAnotherFolder() throws Exception {
    Path elsewhere = Files.createDirectories(unpacked.resolve("usr-local-bin"));
    Path link = Files.createSymbolicLink(elsewhere.resolve("gpu-agent"), home.resolve("bin/gpu-agent"));

    Result result = run(List.of(link.toString(), "--help"), Map.of());

    assertEquals(0, result.status(), result.output());
    assertTrue(result.output().contains("gpu-agent"), result.output());
  }

  @Test
  void runtimeHoldsEveryModuleJdepsFindsInLib() throws Exception {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
    List<String> args = new ArrayList<>(List.of("--ignore-missing-deps", "--print-module-deps", "-q",
        "--multi-release", "17", "--class-path", home.resolve("lib") + "/*"));
    String automaticModules = automaticModulesThatModularJarsRequire();
    if (!automaticModules.isEmpty()) {
      args.addAll(List.of("--module-path", automaticModules));
    }
    jars().forEach(jar -> args.add(jar.toString()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = jdeps.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args.toArray(String[]::new));
    assertEquals(0, status, "jdeps: " + err.toString(StandardCharsets.UTF_8));
    Set<String> needed = new TreeSet<>(Arrays.asList(out.toString(StandardCharsets.UTF_8).strip().split(",")));

    Result listed = run(List.of(home.resolve("runtime/bin/java").toString(), "--list-modules"), Map.of());
    assertEquals(0, listed.status(), listed.output());
    Set<String> present = listed.output().lines().map(l -> l.replaceFirst("@.*", "").strip())
        .collect(Collectors.toCollection(TreeSet::new));

    needed.removeAll(present);
    assertEquals(Set.of(), needed, "modules the jars use but runtime/ lacks: add them to RuntimeImage.MODULES");
  }

  /**
   * jdeps resolves the modules that modular jars (logback, picocli, progressbar, ...) require; a plain
   * jar that one of them requires by its automatic name (progressbar → org.jline.terminal) must be on
   * the module path for that, and only those: other jars' automatic names clash or split packages.
   */
  private static String automaticModulesThatModularJarsRequire() throws IOException {
    Map<String, Path> automatic = new HashMap<>();
    Set<String> required = new TreeSet<>();
    for (Path jar : jars()) {
      ModuleDescriptor descriptor;
      try {
        descriptor = ModuleFinder.of(jar).findAll().iterator().next().descriptor();
      } catch (FindException e) {
        continue; // no valid automatic name (e.g. pekko-http_2.13): nothing can require it
      }
      if (descriptor.isAutomatic()) {
        automatic.put(descriptor.name(), jar);
      } else {
        descriptor.requires().forEach(r -> required.add(r.name()));
      }
    }
    return required.stream().filter(automatic::containsKey).map(n -> automatic.get(n).toString())
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static List<Path> jars() throws IOException {
    try (Stream<Path> files = Files.list(home.resolve("lib"))) {
      List<Path> jars = new ArrayList<>(files.filter(p -> p.toString().endsWith(".jar")).toList());
      Collections.sort(jars);
      return jars;
    }
  }

  private record Result(int status, String output) {}

  /** Runs a command of the unpacked distribution with no JAVA_HOME, so only runtime/ can serve it. */
  private static Result run(List<String> command, Map<String, String> env) throws Exception {
    Path log = Files.createTempFile(unpacked, "run", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).directory(unpacked.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().remove("JAVA_HOME");
    builder.environment().remove("JAVA_OPTS");
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().putAll(env);
    Process process = builder.start();
    process.getOutputStream().close();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(command + " did not finish in 60 s: " + Files.readString(log));
    }
    String output = Files.readString(log);
    return new Result(process.exitValue(), output);
  }
}
