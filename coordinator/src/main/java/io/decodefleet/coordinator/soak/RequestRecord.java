package io.decodefleet.coordinator.soak;

import java.util.ArrayList;
import java.util.List;

/**
 * What became of one request: its attempts (each retriable one with its reason), whether it completed
 * and with which tokens. Written by the client threads that end its attempts, one at a time.
 */
final class RequestRecord {
  final SoakRequest request;
  private final List<String> retries = new ArrayList<>();
  private int attempts;
  private int completions;
  private boolean duplicated;
  private int migrations;
  private int[] tokens;
  private String failure;
  private boolean ended;

  RequestRecord(SoakRequest request) {
    this.request = request;
  }

  /** One attempt ended; returns whether the request is over (completed or failed for good). */
  synchronized boolean attempted(Attempt a, int coordinator) {
    attempts++;
    duplicated |= a.duplicated();
    switch (a.outcome()) {
      case COMPLETED -> {
        completions++;
        tokens = a.tokens();
        migrations += a.migrations();
        ended = true;
      }
      case RETRIABLE -> retries.add("coordinator-" + coordinator + ": " + a.reason());
      case FAILED -> {
        failure = "coordinator-" + coordinator + ": " + a.reason();
        ended = true;
      }
    }
    return ended;
  }

  /** It was still retrying when the soak stopped waiting for it. */
  synchronized void abandoned(String why) {
    if (!ended) failure = why + " (" + attempts + " attempts" + (retries.isEmpty() ? "" : ", last: "
        + retries.get(retries.size() - 1)) + ")";
    ended = true;
  }

  synchronized boolean ended() {
    return ended;
  }

  synchronized int completions() {
    return completions;
  }

  synchronized boolean duplicated() {
    return duplicated;
  }

  synchronized int attempts() {
    return attempts;
  }

  synchronized List<String> retries() {
    return List.copyOf(retries);
  }

  synchronized int migrations() {
    return migrations;
  }

  /** (output tokens) the completed attempt's token ids; null unless it completed. */
  synchronized int[] tokens() {
    return tokens;
  }

  /** Why it did not complete; null when it completed. */
  synchronized String failure() {
    return failure;
  }
}
