package io.decodefleet.coordinator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.metrics.RequestRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SSE frames fed line by line, as the HTTP client splits the body, each line at its own time. */
class CompletionStreamTest {

  /** Feeds {@code body} split at its line ends (LF, CR LF or CR), line i arriving at i ms. */
  private static CompletionStream feed(String body, boolean end) {
    CompletionStream s = new CompletionStream();
    List<String> lines = body.lines().toList();
    for (int i = 0; i < lines.size(); i++) s.line(lines.get(i), ms(i));
    // String.lines() drops a trailing empty line; the blank line that ends the last event is one.
    if (body.endsWith("\n\n") || body.endsWith("\r\n\r\n")) s.line("", ms(lines.size()));
    if (end) s.end(ms(lines.size() + 1));
    return s;
  }

  private static long ms(int millis) {
    return 5_000_000_000L + millis * 1_000_000L;
  }

  private static RequestRecord recorded(CompletionStream s) {
    MetricsRecorder m = new MetricsRecorder();
    m.requestReleased(7, 3, 3, ms(0) - 10_000_000L);
    s.recordInto(m, 7, "endpoint");
    return m.requests().get(0);
  }

  @Test
  void tokenIdChunksCountTheirIdsAndUsageAndDoneCompleteTheStream() {
    String body = "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"token_ids\":[11],\"finish_reason\":null}],"
        + "\"usage\":null}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"token_ids\":[12,13],\"finish_reason\":null}],"
        + "\"usage\":null}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
        + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3,\"total_tokens\":6}}\n\n"
        + "data: [DONE]\n\n";

    CompletionStream s = feed(body, true);

    assertTrue(s.completed());
    assertNull(s.failure());
    assertEquals(3, s.countedTokens());
    assertEquals(3, s.usageTokens());
    assertArrayEquals(new int[] {11, 12, 13}, s.tokenIds());
    RequestRecord r = recorded(s);
    assertTrue(r.completed());
    assertEquals(3, r.outputTokens());
    assertEquals(10.0, r.ttftMs(), 1e-9, "first data line at 0 ms, released 10 ms before");
    assertEquals(List.of(2.0, 0.0), r.itlMs(), "the second event (line 2) carried two tokens");
  }

  @Test
  void textChunksCountOneEachAndTheUsageCountWins() {
    // Two tokens were streamed as one chunk of text (no token ids): the usage says 3.
    String body = "data: {\"choices\":[{\"text\":\"x\"}]}\n\ndata: {\"choices\":[{\"text\":\"yz\"}]}\n\n"
        + "data: {\"choices\":[],\"usage\":{\"completion_tokens\":3}}\n\ndata: [DONE]\n\n";

    CompletionStream s = feed(body, true);

    assertEquals(2, s.countedTokens());
    assertNull(s.tokenIds(), "no ids from a server that does not return them");
    RequestRecord r = recorded(s);
    assertEquals(3, r.outputTokens());
    assertEquals(List.of(2.0, 0.0), r.itlMs(), "the extra token arrived with the last chunk");
    assertEquals(1.0, r.tpotMs(), 1e-9, "(E2E - TTFT) / (3 - 1)");
  }

  @Test
  void usageBelowTheChunkCountDropsTokensFromTheEnd() {
    String body = "data: {\"choices\":[{\"text\":\"x\"}]}\n\ndata: {\"choices\":[{\"text\":\"y\"}]}\n\n"
        + "data: {\"choices\":[{\"text\":\"z\"}],\"usage\":{\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";

    RequestRecord r = recorded(feed(body, true));

    assertEquals(2, r.outputTokens());
    assertEquals(List.of(2.0), r.itlMs());
  }

  @Test
  void sseFramingCrLfCommentsOtherFieldsAndMultiLineData() {
    String body = ": keep-alive\r\nevent: message\r\nid: 1\r\ndata:{\"choices\":\r\ndata: [{\"text\":\"a\","
        + "\"token_ids\":[5]}]}\r\n\r\nretry: 10\r\ndata: [DONE]\r\n\r\n";

    CompletionStream s = feed(body, true);

    assertTrue(s.completed(), String.valueOf(s.failure()));
    assertArrayEquals(new int[] {5}, s.tokenIds());
  }

  @Test
  void errorFrameFailsTheRequestWithItsMessageOnOneLine() {
    String body = "data: {\"choices\":[{\"text\":\"a\",\"token_ids\":[1]}]}\n\n"
        + "data: {\"error\":{\"message\":\"agent-1 left\\nthe cluster\",\"type\":\"server_error\",\"param\":null,"
        + "\"code\":null}}\n\ndata: [DONE]\n\n";

    CompletionStream s = feed(body, true);

    assertFalse(s.completed());
    assertEquals("error: agent-1 left the cluster", s.failure());
    assertEquals("server_error", s.errorType());
    assertFalse(s.connectionLost());
    assertEquals(0, s.refusedStatus());
    RequestRecord r = recorded(s);
    assertFalse(r.completed());
    assertEquals("error: agent-1 left the cluster", r.failureReason());
    assertEquals(1, r.outputTokens(), "what arrived before the error stays on the record");
  }

  @Test
  void aBodyThatEndsBeforeDoneFailsAndALastEventWithoutItsBlankLineCounts() {
    CompletionStream cut = feed("data: {\"choices\":[{\"text\":\"a\"}]}\n\n", true);
    assertEquals("the stream ended before data: [DONE]", cut.failure());
    assertTrue(cut.connectionLost(), "a body cut short is a lost connection");
    assertNull(cut.errorType());

    CompletionStream lenient = feed("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]", true);
    assertTrue(lenient.completed());
  }

  @Test
  void unreadableEventAndFailureReasonsAreCutToOneShortLine() {
    CompletionStream s = feed("data: {not json\n\n", true);
    assertTrue(s.failure().startsWith("unreadable event: {not json"), s.failure());

    String reason = CompletionStream.oneLine("x\n".repeat(400));
    assertEquals(CompletionStream.MAX_REASON, reason.length());
    assertFalse(reason.contains("\n"));
  }
}
