package io.decodefleet.coordinator.simulation;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An agent lost at a virtual time ({@code --fail-agent AGENT@T}): its engine stops mid-step, and the
 * coordinator re-places its sequences once it notices.
 *
 * @param index the agent's index in the fleet (agent-3 is 3)
 * @param atNanos virtual time of the loss, ns after the run's start
 */
public record AgentFailure(int index, long atNanos) {
  private static final Pattern FORM = Pattern.compile("(?:agent-)?(\\d{1,7})@(\\d+(?:\\.\\d+)?)(ms|s)?");

  /**
   * "agent-3@12.5", "3@12.5s" or "agent-3@800ms" (seconds unless ms); an IllegalArgumentException
   * saying the form otherwise.
   */
  public static AgentFailure parse(String text) {
    Matcher m = FORM.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("must be AGENT@TIME, e.g. agent-3@12.5s or agent-3@800ms, got '" + text + "'");
    }
    double value = Double.parseDouble(m.group(2));
    double nanos = "ms".equals(m.group(3)) ? value * 1e6 : value * 1e9;
    if (nanos > Long.MAX_VALUE / 2) throw new IllegalArgumentException("time too large in '" + text + "'");
    return new AgentFailure(Integer.parseInt(m.group(1)), Math.round(nanos));
  }

  public String agentId() {
    return "agent-" + index;
  }

  @Override
  public String toString() {
    return agentId() + "@" + String.format(Locale.ROOT, "%.3fs", atNanos / 1e9);
  }
}
