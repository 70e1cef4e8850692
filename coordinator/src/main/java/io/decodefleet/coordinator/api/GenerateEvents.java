package io.decodefleet.coordinator.api;

import io.decodefleet.api.GenerateEvent;
import io.decodefleet.api.GenerateSummary;
import io.decodefleet.api.TokenEvent;
import io.decodefleet.coordinator.generation.GenerationEvent;
import io.decodefleet.coordinator.metrics.RequestRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * One Generate call's stream elements: a token event per delta, then the summary. The summary's
 * TTFT, TPOT, ITL and E2E are the benchmark's request metrics, on the coordinator's clock; a request
 * without tokens reports 0 where those are undefined. Not thread-safe: one per call, used in order.
 */
final class GenerateEvents {
  private final List<Integer> tokens = new ArrayList<>();
  private final StringBuilder text = new StringBuilder();

  /** The stream element for a delta or the final Done (Failed and End never come here). */
  GenerateEvent next(GenerationEvent e) {
    if (e instanceof GenerationEvent.Delta d) {
      TokenEvent.Builder b = TokenEvent.newBuilder().setIndex(tokens.size()).setAgentId(d.agentId())
          .setElapsedMs(d.elapsedMs()).setText(d.text());
      for (int t : d.tokenIds()) {
        b.addTokenIds(t);
        tokens.add(t);
      }
      text.append(d.text());
      return GenerateEvent.newBuilder().setToken(b).build();
    }
    GenerationEvent.Done done = (GenerationEvent.Done) e;
    RequestRecord r = done.timing();
    GenerateSummary.Builder s = GenerateSummary.newBuilder().setPromptTokens(done.promptTokens())
        .setOutputTokens(done.completionTokens()).setTtftMs(orZero(r.ttftMs())).setE2EMs(orZero(r.e2eMs()))
        .setTpotMs(orZero(r.tpotMs())).setAgentId(r.agentId() == null ? "" : r.agentId())
        .setMigrations(r.migrations()).addAllOutputTokenIds(tokens).addAllItlMs(r.itlMs())
        .setFinishReason(done.finishReason()).setText(text.toString());
    return GenerateEvent.newBuilder().setSummary(s).build();
  }

  /** NaN (TTFT and E2E without tokens, TPOT with fewer than two) goes out as 0. */
  private static double orZero(double ms) {
    return Double.isNaN(ms) ? 0 : ms;
  }
}
