package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void lengthsAreClampedToTheContextWindow() throws Exception {
    // context 4: prompt ≤ 3 tokens, prompt + output ≤ 4
    List<RequestSpec> requests = TraceReader.read(trace("small.jsonl"), TraceOptions.AS_RECORDED, VOCAB, 4, 42);
    assertArrayEquals(new int[] {5, 17, 99}, requests.get(0).promptTokens());
    assertEquals(1, requests.get(0).maxTokens()); // asked 4
    assertEquals(2, requests.get(1).maxTokens()); // prompt 2, asked 3
    assertEquals(3, requests.get(2).promptTokens().length); // asked 6
    assertEquals(1, requests.get(2).maxTokens());
    // the Azure slice's first request (374 + 44) in a 400-token window
    RequestSpec azure = TraceReader.read(trace("azure-llm-conv-trace-head.csv"), TraceOptions.AS_RECORDED, VOCAB, 400, 42).get(0);
    assertEquals(374, azure.promptTokens().length);
    assertEquals(26, azure.maxTokens());
  }
}
