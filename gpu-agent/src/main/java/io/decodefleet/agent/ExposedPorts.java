package io.decodefleet.agent;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says at start-up, in one WARN line, when a port that lacks protection listens beyond this machine:
 * a plaintext cluster port lets any host that reaches it join, a plaintext API lets anyone on the path
 * read prompts and outputs, an API without a key lets anyone use the fleet. Loopback ports are left
 * alone (nothing off the machine reaches them), which keeps the single-machine default quiet.
 */
public final class ExposedPorts {
  private static final Logger LOG = LoggerFactory.getLogger(ExposedPorts.class);

  private ExposedPorts() {}

  /**
   * Whether {@code host} is reached only from this machine: a loopback address or a name that
   * resolves to one. The wildcard (0.0.0.0, ::) and a name that does not resolve count as reachable.
   */
  public static boolean loopbackOnly(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * Logs one WARN line when {@code host} is not loopback-only.
   *
   * @param what the port, as an operator names it ("the cluster port")
   * @param lack what it lacks and what follows ("is plaintext: any host that reaches it can join")
   * @param remedy the flags that fix it ("give --cluster-tls")
   * @return whether it warned
   */
  public static boolean warnIfExposed(String what, String host, int port, String lack, String remedy) {
    if (loopbackOnly(host)) return false;
    LOG.warn("{} on {}:{} {}; {} (docs/security.md)", what, host, port, lack, remedy);
    return true;
  }
}
