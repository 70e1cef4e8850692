package io.decodefleet.agent.backend.cuda.driver;

import java.util.List;
import java.util.Locale;

/**
 * How the CUDA backend's {@code DECODEFLEET_*} switches read: a path checked on a GPU is on unless the
 * variable says {@code off}, {@code 0} or {@code false} ({@link #notOff}); one not yet checked, or
 * slower where measured, is off unless it says {@code on}, {@code 1} or {@code true} ({@link #on}).
 * Any case, blanks around.
 */
public final class EnvSetting {
  private EnvSetting() {}

  /** Set to {@code on}, {@code 1} or {@code true}. */
  public static boolean on(String value) {
    return value != null && is(value, "on", "1", "true");
  }

  /** Unset, or set to anything but {@code off}, {@code 0} or {@code false}. */
  public static boolean notOff(String value) {
    return value == null || !is(value, "off", "0", "false");
  }

  /** Set to {@code word} (a setting's own value beside on and off, such as {@code both} or {@code only}). */
  public static boolean says(String value, String word) {
    return value != null && is(value, word);
  }

  private static boolean is(String value, String... words) {
    return List.of(words).contains(value.strip().toLowerCase(Locale.ROOT));
  }
}
