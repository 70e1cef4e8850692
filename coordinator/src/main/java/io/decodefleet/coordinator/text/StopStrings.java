package io.decodefleet.coordinator.text;

import java.util.List;
import java.util.Optional;

/**
 * The {@code stop} strings of an OpenAI request, matched against the text of one sequence as it streams
 * (after {@link IncrementalDetokenizer}): generation ends at the earliest place where any stop string
 * occurs, and the text returned ends just before it (the stop string itself is not returned, as in
 * OpenAI's API and vLLM's default).
 *
 * <p>A stop string may arrive split across deltas. So the end of the text that could still become a
 * stop string (its longest suffix that is a proper prefix of some stop string) is held back from
 * {@link #append}'s result until later text settles it: either the stop string completes (a stop), or
 * it does not and the held text is released with what follows. {@link #flush()} releases what is
 * held when the sequence ends for another reason (EOS, length).
 *
 * <p>Where several stop strings occur, the one that starts first wins; at the same start, the first
 * in the request's order. Not thread-safe: one per sequence.
 */
public final class StopStrings {

  /**
   * What one {@link #append} gives.
   *
   * @param text the text that may be streamed now; after a stop, what precedes the stop string
   * @param stop the stop string that matched, if this call hit one
   */
  public record Delta(String text, Optional<String> stop) {
    public boolean stopped() {
      return stop.isPresent();
    }
  }

  private final List<String> stops;
  /** text received but not yet returned: a suffix that may be the start of a stop string */
  private String held = "";
  private boolean stopped;

  /** @param stops the stop strings, none of them empty; an empty list matches nothing */
  public StopStrings(List<String> stops) {
    for (int i = 0; i < stops.size(); i++) {
      if (stops.get(i) == null || stops.get(i).isEmpty()) {
        throw new IllegalArgumentException("stop[" + i + "] is empty: a stop string needs at least one character");
      }
    }
    this.stops = List.copyOf(stops);
  }

  /**
   * Adds text the sequence produced. After a stop every call returns "" and no stop: the caller has
   * ended the sequence.
   */
  public Delta append(String delta) {
    if (stopped) {
      return new Delta("", Optional.empty());
    }
    String pending = held + delta;
    int earliest = -1;
    String matched = null;
    for (String stop : stops) {
      int at = pending.indexOf(stop);
      if (at >= 0 && (earliest < 0 || at < earliest)) {
        earliest = at;
        matched = stop;
      }
    }
    if (matched != null) {
      stopped = true;
      held = "";
      return new Delta(pending.substring(0, earliest), Optional.of(matched));
    }
    int keep = partialMatchLength(pending);
    held = pending.substring(pending.length() - keep);
    return new Delta(pending.substring(0, pending.length() - keep), Optional.empty());
  }

  /** The text still held back, at the end of a sequence that did not stop; "" after a stop. */
  public String flush() {
    String rest = stopped ? "" : held;
    held = "";
    return rest;
  }

  /** Whether a stop string has matched. */
  public boolean stopped() {
    return stopped;
  }

  /** The length of the longest suffix of {@code text} that is a proper prefix of a stop string. */
  private int partialMatchLength(String text) {
    int longest = 0;
    for (String stop : stops) {
      for (int n = Math.min(stop.length() - 1, text.length()); n > longest; n--) {
        if (text.regionMatches(text.length() - n, stop, 0, n)) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
