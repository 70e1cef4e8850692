package io.decodefleet.agent.cli;

import io.decodefleet.agent.observability.LogFormat;
import java.util.Map;
import picocli.CommandLine.ParseResult;

/**
 * Both CLIs' {@code --log-format text|json} (inherited by every subcommand, so it may come before
 * or after one), else {@code $DECODEFLEET_LOG_FORMAT}, else text; applied before the command runs.
 */
public final class LogFormatOption {
  public static final String OPTION = "--log-format";
  public static final String ENVIRONMENT = "DECODEFLEET_LOG_FORMAT";

  private LogFormatOption() {}

  /**
   * Applies the format the command line or the environment gives.
   *
   * @return null when applied, else the one line saying why the value is refused
   */
  public static String apply(ParseResult parsed, Map<String, String> environment) {
    String value = null;
    for (ParseResult level = parsed; level != null; level = level.subcommand()) {
      if (level.hasMatchedOption(OPTION)) value = level.matchedOptionValue(OPTION, value);
    }
    if (value == null) value = environment.getOrDefault(ENVIRONMENT, "text");
    try {
      LogFormat.parse(value).apply();
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }
}
