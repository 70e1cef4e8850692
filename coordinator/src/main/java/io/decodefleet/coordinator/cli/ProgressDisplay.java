package io.decodefleet.coordinator.cli;

import io.decodefleet.coordinator.run.RunProgress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A console progress bar for one sweep point (requests done / total, output tokens/s). */
final class ProgressDisplay implements AutoCloseable {
  private final ProgressBar bar;

  ProgressDisplay(int worldSize, int total) {
    bar = new ProgressBarBuilder().setTaskName("world size " + worldSize).setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).continuousUpdate().build();
  }

  /** Whether a bar makes sense: only on a terminal. */
  static boolean wanted() {
    return System.console() != null && !"dumb".equals(System.getenv("TERM"));
  }

  Behavior<RunProgress> behavior() {
    return Behaviors.receive((ctx, p) -> {
      bar.stepTo(p.completed() + p.failed());
      double secs = p.elapsedNanos() / 1e9;
      bar.setExtraMessage(String.format(" %.0f tok/s", secs > 0 ? p.outputTokens() / secs : 0.0));
      return Behaviors.same();
    });
  }

  @Override
  public void close() {
    bar.close();
  }
}
