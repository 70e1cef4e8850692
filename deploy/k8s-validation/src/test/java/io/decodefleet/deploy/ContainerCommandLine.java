package io.decodefleet.deploy;

import io.decodefleet.agent.cli.GpuAgentCli;
import io.decodefleet.coordinator.cli.CoordinatorCli;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * A container's command line as the application will see it: the environment Kubernetes builds (plain
 * values, ConfigMaps, the downward API), the arguments with {@code $(VAR)} expanded as the kubelet does,
 * and the value each option takes, from the arguments, else from the environment variable its
 * {@code ${env:NAME:-default}} default names, else from the application's own default.
 */
final class ContainerCommandLine {
  /** Launcher (deploy/dist/src/main/dist/bin) → the command line it runs. */
  enum Application {
    GPU_AGENT("gpu-agent"), COORDINATOR("coordinator");

    final String launcher;

    Application(String launcher) {
      this.launcher = launcher;
    }

    CommandLine commandLine() {
      return this == GPU_AGENT ? new CommandLine(new GpuAgentCli()) : new CommandLine(new CoordinatorCli());
    }

    static Application ofImage(String image) {
      String name = ImageReference.parse(image).name();
      for (Application a : values()) {
        if (name.endsWith("/" + a.launcher) || name.equals(a.launcher)) return a;
      }
      throw new AssertionError("image " + image + " is neither gpu-agent nor coordinator");
    }
  }

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?}");
  private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  private final Application application;
  private final Map<String, String> env;
  private final List<String> args;

  /**
   * @param downward the pod's field values the downward API may read (e.g. status.podIP → "10.1.2.3")
   */
  ContainerCommandLine(Container container, ManifestSet set, Map<String, String> downward) {
    this.application = Application.ofImage(container.getImage());
    Map<String, String> environment = new LinkedHashMap<>();
    for (EnvFromSource from : container.getEnvFrom()) {
      if (from.getConfigMapRef() == null) throw new AssertionError(container.getName() + ": envFrom other than a ConfigMap");
      String prefix = from.getPrefix() == null ? "" : from.getPrefix();
      set.configMap(from.getConfigMapRef().getName()).getData().forEach((k, v) -> environment.put(prefix + k, v));
    }
    for (EnvVar var : container.getEnv()) environment.put(var.getName(), value(var, set, downward, environment));
    this.env = Map.copyOf(environment);
    List<String> expanded = new ArrayList<>();
    for (String arg : container.getArgs()) expanded.add(expand(arg, environment));
    this.args = List.copyOf(expanded);
  }

  private ContainerCommandLine(Application application, Map<String, String> env, List<String> args) {
    this.application = application;
    this.env = Map.copyOf(env);
    this.args = List.copyOf(args);
  }

  private static String value(EnvVar var, ManifestSet set, Map<String, String> downward, Map<String, String> earlier) {
    if (var.getValueFrom() == null) return expand(var.getValue() == null ? "" : var.getValue(), earlier);
    if (var.getValueFrom().getFieldRef() != null) {
      String field = var.getValueFrom().getFieldRef().getFieldPath();
      String value = downward.get(field);
      if (value == null) throw new AssertionError(var.getName() + ": no downward value given for " + field);
      return value;
    }
    if (var.getValueFrom().getSecretKeyRef() != null) {
      // A Secret's value is the operator's (deploy/k8s/README.md creates them): only that one is given.
      return secretValue(var.getValueFrom().getSecretKeyRef().getName(), var.getValueFrom().getSecretKeyRef().getKey());
    }
    if (var.getValueFrom().getConfigMapKeyRef() != null) {
      var ref = var.getValueFrom().getConfigMapKeyRef();
      String value = set.configMap(ref.getName()).getData().get(ref.getKey());
      if (value == null) throw new AssertionError(var.getName() + ": ConfigMap " + ref.getName() + " has no key " + ref.getKey());
      return value;
    }
    throw new AssertionError(var.getName() + ": unsupported valueFrom " + var.getValueFrom());
  }

  /** What stands for the value of key {@code key} of Secret {@code name}, which only the cluster knows. */
  static String secretValue(String name, String key) {
    return "<secret " + name + "/" + key + ">";
  }

  /**
   * This command line with every path under a volume's mount path moved to a folder of this machine
   * (mount path → folder), as the kubelet's mount would put the files there.
   */
  ContainerCommandLine mounted(Map<String, java.nio.file.Path> mounts) {
    Map<String, String> env = new LinkedHashMap<>();
    this.env.forEach((k, v) -> env.put(k, remount(v, mounts)));
    return new ContainerCommandLine(application, env, args.stream().map(a -> remount(a, mounts)).toList());
  }

  private static String remount(String value, Map<String, java.nio.file.Path> mounts) {
    for (Map.Entry<String, java.nio.file.Path> m : mounts.entrySet()) {
      if (value.startsWith(m.getKey() + "/")) return m.getValue() + value.substring(m.getKey().length());
    }
    return value;
  }

  /** The kubelet's expansion: $(VAR) of a defined variable is replaced, anything else stays. */
  static String expand(String text, Map<String, String> env) {
    Matcher m = VAR_REF.matcher(text.replace("$$", "\u0000"));
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value != null ? value : m.group()));
    }
    m.appendTail(out);
    return out.toString().replace("\u0000", "$");
  }

  Application application() {
    return application;
  }

  Map<String, String> env() {
    return env;
  }

  List<String> args() {
    return args;
  }

  /** The command (top level, or the subcommand named by the first argument) the arguments are for. */
  CommandSpec spec() {
    CommandLine top = application.commandLine();
    if (!args.isEmpty() && top.getSubcommands().containsKey(args.get(0))) {
      return top.getSubcommands().get(args.get(0)).getCommandSpec();
    }
    return top.getCommandSpec();
  }

  /** Parses the arguments with the application's real command line; throws on anything it rejects. */
  void parse() {
    application.commandLine().parseArgs(args.toArray(String[]::new));
  }

  boolean hasOption(String name) {
    return spec().findOption(name) != null;
  }

  /** The value option name takes in this container. */
  String option(String name) {
    OptionSpec option = spec().findOption(name);
    if (option == null) throw new AssertionError(application.launcher + " has no option " + name);
    String given = null;
    for (int i = 0; i < args.size(); i++) {
      for (String alias : option.names()) {
        if (args.get(i).equals(alias) && i + 1 < args.size()) given = args.get(i + 1);
        else if (args.get(i).startsWith(alias + "=")) given = args.get(i).substring(alias.length() + 1);
      }
    }
    if (given != null) return given;
    String declared = declaredDefault(option);
    if (declared != null) {
      Matcher m = ENV_DEFAULT.matcher(declared);
      if (m.matches()) return env.containsKey(m.group(1)) ? env.get(m.group(1)) : m.group(2);
      return declared;
    }
    return option.initialValue() == null ? null : String.valueOf(option.initialValue());
  }

  /** The annotation's raw defaultValue ("${env:X:-2552}"), before picocli resolves it in this JVM. */
  private static String declaredDefault(OptionSpec option) {
    if (option.userObject() instanceof Field field) {
      Option annotation = field.getAnnotation(Option.class);
      if (annotation != null && !annotation.defaultValue().equals(Option.NULL_VALUE)
          && !annotation.defaultValue().equals("__no_default_value__")) {
        return annotation.defaultValue();
      }
    }
    return null;
  }
}
