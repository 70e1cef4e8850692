package io.decodefleet.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Secrets deploy/k8s/README.md tells the operator to create ({@code kubectl create secret ...}):
 * their names and the keys each holds, read from the README's own commands; and the README's block that
 * makes the cluster's stores, run for real (keytool) with {@code kubectl} standing in for the API
 * server: it puts each {@code --from-file} into a folder, as the Secret's volume will hold it.
 */
final class DocumentedSecrets {
  static final String CLUSTER_TLS = "decodefleet-cluster-tls";
  private static final Pattern BASH_BLOCK = Pattern.compile("```bash\\n(.*?)```", Pattern.DOTALL);
  private static Path clusterTls;

  private DocumentedSecrets() {}

  private static String readme() {
    try {
      return Files.readString(DeploySources.k8s().resolve("README.md"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Secret name → the keys the README's commands put in it. */
  static Map<String, Set<String>> keys() {
    Map<String, Set<String>> secrets = new LinkedHashMap<>();
    for (String line : readme().replace("\\\n", " ").lines().toList()) {
      List<String> words = words(line);
      int create = words.indexOf("create");
      if (!words.contains("kubectl") || create < 0 || create + 3 >= words.size()
          || !words.get(create + 1).equals("secret")) {
        continue;
      }
      String type = words.get(create + 2);
      Set<String> keys = secrets.computeIfAbsent(words.get(create + 3), n -> new TreeSet<>());
      if (type.equals("tls")) keys.addAll(List.of("tls.crt", "tls.key"));
      for (String w : words) {
        if (w.startsWith("--from-file=")) keys.add(Path.of(w.substring(12).split("=", 2)[0]).getFileName().toString());
        if (w.startsWith("--from-literal=")) keys.add(w.substring(15).split("=", 2)[0]);
      }
    }
    return secrets;
  }

  /**
   * A folder holding what Secret decodefleet-cluster-tls holds, made by the README's commands (once per
   * JVM: keytool takes a while).
   */
  static synchronized Path clusterTls() throws IOException, InterruptedException {
    if (clusterTls != null) return clusterTls;
    String block = null;
    Matcher m = BASH_BLOCK.matcher(readme());
    while (m.find()) {
      if (m.group(1).contains("create secret generic " + CLUSTER_TLS)) block = m.group(1);
    }
    if (block == null) throw new AssertionError("deploy/k8s/README.md has no block creating " + CLUSTER_TLS);
    Path dir = Files.createTempDirectory("decodefleet-cluster-tls");
    Files.writeString(dir.resolve("create-secret.sh"), block);
    // kubectl create secret generic NAME --from-file=KEY[=PATH]...: the files go into the Secret.
    String kubectl = "kubectl() {\n"
        + "  printf '%s\\n' \"$@\" > kubectl.args\n"
        + "  mkdir -p secret\n"
        + "  for a in \"$@\"; do case \"$a\" in --from-file=*) f=\"${a#--from-file=}\"; cp \"${f#*=}\" \"secret/${f%%=*}\";;"
        + " esac; done\n"
        + "}\n";
    ProcessBuilder bash = new ProcessBuilder("bash", "-c", "set -euo pipefail\n" + kubectl + "source ./create-secret.sh")
        .directory(dir.toFile()).redirectErrorStream(true);
    bash.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
    // keytool is a JVM of its own per step: start it the cheap way
    bash.environment().put("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    Process p = bash.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("the README's commands for " + CLUSTER_TLS + " failed:\n" + out);
    }
    List<String> args = Files.readAllLines(dir.resolve("kubectl.args"));
    if (!args.subList(0, Math.min(6, args.size())).equals(List.of("-n", "decodefleet", "create", "secret", "generic",
        CLUSTER_TLS))) {
      throw new AssertionError("the README's kubectl does not create " + CLUSTER_TLS + " in decodefleet: " + args);
    }
    clusterTls = dir.resolve("secret");
    return clusterTls;
  }

  /** A shell command line's words, quotes removed (enough for the README's commands). */
  static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (char c : line.toCharArray()) {
      if (quote != 0) {
        if (c == quote) quote = 0;
        else word.append(c);
      } else if (c == '"' || c == '\'') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) words.add(word.toString());
        word.setLength(0);
        inWord = false;
      } else if (c == '#' && !inWord) {
        break;
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (inWord) words.add(word.toString());
    return words;
  }
}
