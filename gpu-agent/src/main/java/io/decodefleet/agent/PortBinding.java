package io.decodefleet.agent;

import com.typesafe.config.Config;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Where a process binds a port (a node's cluster port, Pekko Management, an API, {@code /metrics}):
 * the binding, or one line saying which port could not be had and why, for both CLIs to print before
 * they exit with code 2. A port that is taken is the user's to fix, not a stack trace to read.
 */
public final class PortBinding {
  private PortBinding() {}

  /** How long a bind may take before it counts as failed. */
  private static final long BIND_SECONDS = 30;

  /** A port that could not be bound: its one line, without a stack trace. */
  public static final class Unavailable extends RuntimeException {
    Unavailable(String line) {
      super(line, null, false, false);
    }
  }

  /**
   * Waits for {@code binding}.
   *
   * @param what what the port serves, for the line ("the gRPC API", "the management port")
   * @throws Unavailable "cannot bind {what} to host:port: reason" when it fails or takes too long
   */
  public static <T> T bound(String what, String host, int port, CompletionStage<T> binding) {
    try {
      return binding.toCompletableFuture().get(BIND_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new Unavailable(line(what, host, port, e.getCause() == null ? e : e.getCause()));
    } catch (TimeoutException e) {
      throw new Unavailable("cannot bind " + what + " to " + host + ":" + port + ": no answer within " + BIND_SECONDS
          + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unavailable("interrupted while binding " + what + " to " + host + ":" + port);
    }
  }

  /**
   * Starts a cluster node's ActorSystem, whose transport binds the cluster port as it starts.
   *
   * @throws Unavailable "cannot bind the cluster port to host:port: reason" when that port cannot be
   *     bound (anything else that stops the system from starting is thrown as it was)
   */
  public static <T> ActorSystem<T> clusterNode(Behavior<T> guardian, Config config) {
    try {
      return ActorSystem.create(guardian, ClusterConfig.SYSTEM_NAME, config);
    } catch (RuntimeException e) {
      if (bindFailure(e) == null) throw e;
      throw new Unavailable(line("the cluster port", config.getString("pekko.remote.artery.canonical.hostname"),
          config.getInt("pekko.remote.artery.canonical.port"), e));
    }
  }

  /** "cannot bind {what} to host:port: reason", the reason being the socket's own words where there are some. */
  static String line(String what, String host, int port, Throwable failure) {
    Throwable bind = bindFailure(failure);
    String reason;
    if (bind != null) {
      // "[/127.0.0.1:8558] Address already in use": the address is in the line already.
      reason = bind.getMessage() == null ? "address already in use" : bind.getMessage().replaceFirst("^\\[[^]]*]\\s*", "");
    } else {
      Throwable root = failure;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      reason = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().strip().lines()
          .findFirst().orElse("");
    }
    return "cannot bind " + what + " to " + host + ":" + port + ": " + reason;
  }

  /** The {@link java.net.BindException} behind {@code failure}, or null. */
  private static Throwable bindFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.BindException) return t;
    }
    return null;
  }
}
