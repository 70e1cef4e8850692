package io.decodefleet.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.decodefleet.agent.ClusterConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the manifests must agree with in the configuration every DecodeFleet node starts from
 * (gpu-agent's decodefleet-cluster.conf over the Pekko defaults): how Cluster Bootstrap finds contact
 * points through the Kubernetes API, and where Pekko Management serves its health checks.
 *
 * @param podSelector the label selector the discovery lists pods with, as key → value
 * @param portName the name of the container port contact points are probed on
 */
record BootstrapSettings(String systemName, String effectiveName, Map<String, String> podSelector, String portName,
    String discoveryMethod, String podDomain, boolean rawIp, int managementPort, String livenessPath,
    String readinessPath) {

  private static final String BOOTSTRAP = "pekko.management.cluster.bootstrap.contact-point-discovery.";
  private static final String DISCOVERY = "pekko.discovery.kubernetes-api.";

  static Config config() {
    return config(Map.of());
  }

  /**
   * The configuration as a node with environment {@code env} resolves it: its {@code ${?VAR}}
   * substitutions read these variables (not this JVM's environment).
   */
  static Config config(Map<String, String> env) {
    return ConfigFactory.parseMap(env)
        .withFallback(ConfigFactory.parseResources(ClusterConfig.class.getClassLoader(), "decodefleet-cluster.conf"))
        .withFallback(ConfigFactory.defaultReference(ClusterConfig.class.getClassLoader()))
        .resolve(com.typesafe.config.ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
  }

  static BootstrapSettings load() {
    Config c = config();
    // ClusterBootstrapSettings: effective-name, else service-name (else the system name) [+ "." + service-namespace]
    String service = defined(c, BOOTSTRAP + "service-name") ? c.getString(BOOTSTRAP + "service-name") : ClusterConfig.SYSTEM_NAME;
    String effective = defined(c, BOOTSTRAP + "effective-name") ? c.getString(BOOTSTRAP + "effective-name")
        : defined(c, BOOTSTRAP + "service-namespace") ? service + "." + c.getString(BOOTSTRAP + "service-namespace") : service;
    String selector = String.format(c.getString(DISCOVERY + "pod-label-selector"), effective);
    String base = c.getString("pekko.management.http.base-path");
    String prefix = "/" + (base.isEmpty() ? "" : base + "/");
    return new BootstrapSettings(ClusterConfig.SYSTEM_NAME, effective, parseSelector(selector),
        c.getString(BOOTSTRAP + "port-name"), c.getString(BOOTSTRAP + "discovery-method"),
        c.getString(DISCOVERY + "pod-domain"), c.getBoolean(DISCOVERY + "use-raw-ip"),
        c.getInt("pekko.management.http.port"),
        prefix + c.getString("pekko.management.health-checks.liveness-path"),
        prefix + c.getString("pekko.management.health-checks.readiness-path"));
  }

  /** Pekko's placeholder values ("<service-name>") mean "not set". */
  private static boolean defined(Config c, String path) {
    return c.hasPath(path) && !c.getString(path).startsWith("<") && !c.getString(path).isEmpty();
  }

  /** An equality-based selector "k=v,k2=v2" (what the Kubernetes API accepts as labelSelector). */
  static Map<String, String> parseSelector(String selector) {
    Map<String, String> terms = new LinkedHashMap<>();
    for (String term : selector.split(",")) {
      String t = term.trim();
      int eq = t.indexOf('=');
      if (eq <= 0 || t.contains("!=")) throw new IllegalArgumentException("label selector term '" + t + "' is not k=v");
      String value = t.substring(eq + 1);
      if (value.startsWith("=")) value = value.substring(1);
      terms.put(t.substring(0, eq).trim(), value.trim());
    }
    return terms;
  }

  boolean selects(Map<String, String> labels) {
    return podSelector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }
}
