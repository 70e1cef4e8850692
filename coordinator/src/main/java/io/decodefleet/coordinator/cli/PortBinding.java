package io.decodefleet.coordinator.cli;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;

/** Where a command binds a port: the binding, or one line saying why it could not be had. */
final class PortBinding {
  private PortBinding() {}

  /**
   * @param what what the port serves, for the message ("the OpenAI API")
   * @throws UsageError with one line when the address cannot be bound (a port in use, ...)
   */
  static ServerBinding bound(String what, String host, int port, CompletionStage<ServerBinding> binding)
      throws Exception {
    try {
      return binding.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new UsageError("cannot bind " + what + " to " + host + ":" + port + ": " + cause.getMessage());
    }
  }
}
