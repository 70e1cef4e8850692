package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceReaderTest {
  private static final int VOCAB = 32_000;
  private static final int CONTEXT = 8192;

  static Path trace(String name) {
    try {
      return Path.of(TraceReaderTest.class.getResource("/traces/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("test trace " + name + " is missing", e);
    }
  }

  private static List<RequestSpec> read(String name, TraceOptions options) throws Exception {
    return TraceReader.read(trace(name), options, VOCAB, CONTEXT, 42);
  }

  @Test
  void azureSliceGivesItsEightyRequestsWithTheFileLengthsAndOffsets() throws Exception {
    List<RequestSpec> requests = read("azure-llm-conv-trace-head.csv", TraceOptions.AS_RECORDED);
    assertEquals(80, requests.size());
    // 18:15:46.6805900, 18:15:50.9951690, 18:15:51.2224670
    assertEquals(0L, requests.get(0).arrivalNanos());
    assertEquals(4_314_579_000L, requests.get(1).arrivalNanos());
    assertEquals(4_541_877_000L, requests.get(2).arrivalNanos());
    // last row 18:16:24.1565550
    assertEquals(37_475_965_000L, requests.get(79).arrivalNanos());
    int[][] lengths = {{374, 44}, {396, 109}, {879, 55}};
    for (int i = 0; i < 3; i++) {
      assertEquals(i, requests.get(i).requestId());
      assertEquals(lengths[i][0], requests.get(i).promptTokens().length);
      assertEquals(lengths[i][1], requests.get(i).maxTokens());
    }
    assertTrue(requests.stream().allMatch(r -> Arrays.stream(r.promptTokens()).allMatch(t -> t >= 0 && t < VOCAB)));
  }

  @Test
  void timeScaleMultipliesEveryOffset() throws Exception {
    List<RequestSpec> fast = read("azure-llm-conv-trace-head.csv", new TraceOptions(0.5, 0));
    assertEquals(2_157_289_500L, fast.get(1).arrivalNanos());
    assertEquals(18_737_982_500L, fast.get(79).arrivalNanos());
    List<RequestSpec> slow = read("azure-llm-conv-trace-head.csv", new TraceOptions(2.0, 0));
    assertEquals(8_629_158_000L, slow.get(1).arrivalNanos());
  }

  @Test
  void maxRequestsKeepsTheFirstByArrivalWithTheSameTokens() throws Exception {
    List<RequestSpec> all = read("azure-llm-conv-trace-head.csv", TraceOptions.AS_RECORDED);
    List<RequestSpec> first10 = read("azure-llm-conv-trace-head.csv", new TraceOptions(1.0, 10));
    assertEquals(10, first10.size());
    assertEquals(WorkloadGeneratorTest.render(all.subList(0, 10)), WorkloadGeneratorTest.render(first10));
    assertEquals(80, read("azure-llm-conv-trace-head.csv", new TraceOptions(1.0, 500)).size());
  }

  @Test
  void csvRowsAreSortedByTimeStablyAndOffsetFromTheEarliest() throws Exception {
    // rows: 02.5 (30,3), 01 (10,1), 02.500000000 (20,2), 01.000000001 (40,4)
    List<RequestSpec> requests = read("unordered.csv", TraceOptions.AS_RECORDED);
    assertEquals(List.of(0L, 1L, 1_500_000_000L, 1_500_000_000L), requests.stream().map(RequestSpec::arrivalNanos).toList());
    assertEquals(List.of(10, 40, 30, 20), requests.stream().map(r -> r.promptTokens().length).toList());
    assertEquals(List.of(1, 4, 3, 2), requests.stream().map(RequestSpec::maxTokens).toList());
    assertEquals(List.of(0L, 1L, 2L, 3L), requests.stream().map(RequestSpec::requestId).toList());
  }

  @Test
  void jsonlGivesTheStatedRequestsInArrivalOrder() throws Exception {
    List<RequestSpec> requests = read("small.jsonl", TraceOptions.AS_RECORDED);
    assertEquals(4, requests.size());
    assertEquals(List.of(0L, 250_000_000L, 500_000_000L, 1_750_000_000L),
        requests.stream().map(RequestSpec::arrivalNanos).toList());
    assertArrayEquals(new int[] {5, 17, 99}, requests.get(0).promptTokens());
    assertEquals(4, requests.get(0).maxTokens());
    assertArrayEquals(new int[] {0, 1}, requests.get(1).promptTokens());
    assertEquals(3, requests.get(1).maxTokens());
    assertEquals(6, requests.get(2).promptTokens().length);
    assertEquals(2, requests.get(2).maxTokens());
    assertEquals(1, requests.get(3).promptTokens().length);
    assertEquals(1, requests.get(3).maxTokens());
  }

  @Test
  void generatedPromptTokensFollowTheSeed() throws Exception {
    Path file = trace("small.jsonl");
    RequestSpec a = TraceReader.read(file, TraceOptions.AS_RECORDED, VOCAB, CONTEXT, 1).get(2);
    RequestSpec b = TraceReader.read(file, TraceOptions.AS_RECORDED, VOCAB, CONTEXT, 1).get(2);
    RequestSpec c = TraceReader.read(file, TraceOptions.AS_RECORDED, VOCAB, CONTEXT, 2).get(2);
    assertArrayEquals(a.promptTokens(), b.promptTokens());
    assertNotEquals(Arrays.toString(a.promptTokens()), Arrays.toString(c.promptTokens()));
    // given tokens do not depend on the seed
    assertArrayEquals(new int[] {5, 17, 99}, TraceReader.read(file, TraceOptions.AS_RECORDED, VOCAB, CONTEXT, 2).get(0).promptTokens());
  }

  @Test
  void aRowOverTheContextIsRefusedNamingItsLineNeverCut() throws Exception {
    // small.jsonl's rows, by line: 1: 3 + 4 tokens, 3: 6 + 2, 4: 2 + 3, 5: 1 + 1.
    OverlengthException e = assertThrows(OverlengthException.class, () -> TraceReader.read(trace("small.jsonl"),
        TraceOptions.AS_RECORDED, VOCAB, LengthLimit.context("tiny", 7), OverlengthPolicy.ERROR, 42));
    assertEquals(3, e.line());
    assertEquals(OverlengthException.Setting.TRACE, e.setting());
    assertTrue(e.getMessage().endsWith("small.jsonl:3: a 6-token prompt plus up to 2 output tokens exceeds model "
        + "tiny's context of 7 tokens"), e.getMessage());
    // The plain reader refuses it as a bad line of the file.
    TraceFormatException asFormat = assertThrows(TraceFormatException.class,
        () -> TraceReader.read(trace("azure-llm-conv-trace-head.csv"), TraceOptions.AS_RECORDED, VOCAB, 400, 42));
    assertEquals(2, asFormat.line(), "the first row after the header: 374 + 44 tokens");
    assertTrue(asFormat.getMessage().contains("a 374-token prompt plus up to 44 output tokens exceeds the model's "
        + "context of 400 tokens"), asFormat.getMessage());
  }

  @Test
  void skippedRowsAreLeftOutWholeAndCountedAndTheRestKeepTheirLengths() throws Exception {
    Workload w = TraceReader.read(trace("small.jsonl"), TraceOptions.AS_RECORDED, VOCAB, LengthLimit.context("tiny", 7),
        OverlengthPolicy.SKIP, 42);
    assertEquals(1, w.skipped());
    assertEquals(4, w.drawn());
    assertEquals(List.of(0L, 1L, 2L), w.requests().stream().map(RequestSpec::requestId).toList(), "ids 0..n-1");
    assertArrayEquals(new int[] {5, 17, 99}, w.requests().get(0).promptTokens());
    assertEquals(4, w.requests().get(0).maxTokens());
    assertArrayEquals(new int[] {0, 1}, w.requests().get(1).promptTokens());
    assertEquals(3, w.requests().get(1).maxTokens());
    assertEquals(1, w.requests().get(2).promptTokens().length);
    assertEquals(1_750_000_000L, w.requests().get(2).arrivalNanos());
  }

  @Test
  void aRowNoAgentsKvPoolCouldHoldIsRefusedOrSkippedLikeOneOverTheContext() throws Exception {
    LengthLimit pool = LengthLimit.context("tiny", 2048).withKvPool(1, 4); // one block of 4 tokens
    OverlengthException e = assertThrows(OverlengthException.class, () -> TraceReader.read(trace("small.jsonl"),
        TraceOptions.AS_RECORDED, VOCAB, pool, OverlengthPolicy.ERROR, 42));
    assertTrue(e.getMessage().endsWith("small.jsonl:1: a 3-token prompt plus up to 4 output tokens needs 2 KV blocks "
        + "of 4 tokens; the largest agent's KV pool holds 1"), e.getMessage());
    Workload w = TraceReader.read(trace("small.jsonl"), TraceOptions.AS_RECORDED, VOCAB, pool, OverlengthPolicy.SKIP,
        42);
    assertEquals(3, w.skipped());
    assertEquals(1, w.requests().size());
    assertEquals(2, w.requests().get(0).promptTokens().length + w.requests().get(0).maxTokens());
  }
}
