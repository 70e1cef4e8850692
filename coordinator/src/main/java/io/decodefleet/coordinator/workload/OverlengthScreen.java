package io.decodefleet.coordinator.workload;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a {@link LengthLimit} to a workload's requests one by one, by their lengths (before their
 * tokens are drawn), under an {@link OverlengthPolicy}. A conversation's later turn is judged by its
 * whole prompt (every earlier prompt and output of its conversation, then its own message), and a turn
 * whose earlier turn was left out is left out with it: it could never be sent.
 */
final class OverlengthScreen {
  private OverlengthScreen() {}

  /** A request by its lengths. */
  interface Sized {
    long requestId();

    /** Its own prompt tokens (of a later turn, its new message only). */
    int promptLength();

    int maxTokens();

    /** The turn whose end releases it; -1: none. */
    long previousTurn();
  }

  /** Names a request over the limit: which setting drove it there and which request it is. */
  interface Namer {
    /**
     * @param turn 1 for a request of its own or a conversation's first turn, k for its k-th
     * @param conversation the id of the conversation's first turn
     * @param promptTokens its whole prompt's length
     */
    Origin name(Sized request, int turn, long conversation, long promptTokens);
  }

  /** @param what the request as a user finds it ("request 17", "turn 3 of conversation 5") */
  record Origin(OverlengthException.Setting setting, String what) {}

  /** The requests kept, in their order, and how many were left out. */
  record Screened<T extends Sized>(List<T> kept, int skipped) {}

  /** @param requests in release order; an earlier turn comes before its later ones */
  static <T extends Sized> Screened<T> screen(List<T> requests, LengthLimit limit, OverlengthPolicy policy,
      Namer namer) throws OverlengthException {
    Map<Long, long[]> conversations = new HashMap<>(); // id → {whole prompt + output tokens, turn, first turn's id}
    Set<Long> left = new HashSet<>();
    List<T> kept = new ArrayList<>(requests.size());
    for (T r : requests) {
      boolean later = r.previousTurn() >= 0;
      if (later && left.contains(r.previousTurn())) {
        left.add(r.requestId());
        continue;
      }
      long[] before = later ? conversations.get(r.previousTurn()) : null;
      long prompt = (before == null ? 0 : before[0]) + r.promptLength();
      int turn = before == null ? 1 : (int) before[1] + 1;
      long conversation = before == null ? r.requestId() : before[2];
      String excess = limit.excess(prompt, r.maxTokens());
      if (excess != null) {
        if (policy == OverlengthPolicy.ERROR) {
          Origin origin = namer.name(r, turn, conversation, prompt);
          throw new OverlengthException(origin.setting(), origin.what() + ": " + excess, true);
        }
        left.add(r.requestId());
        continue;
      }
      conversations.put(r.requestId(), new long[] {prompt + r.maxTokens(), turn, conversation});
      kept.add(r);
    }
    return new Screened<>(kept, left.size());
  }
}
