package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CoordinatorCliTest {

  /** Runs the CLI in a fresh JVM, as a user does. */
  private static Result runProcess(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CoordinatorCli.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out, err);
  }

  private record Result(int code, String out, String err) {}

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "--world-size, 0, --world-size must be >= 1",
      "--world-size, -3, --world-size must be >= 1",
      "--world-size, eight, Invalid value for option '--world-size'",
      "--model, gpt-9, unknown model 'gpt-9'",
      "--placement, random, unknown placement 'random'",
      "--output-len, 0, --output-len: '0' is not a length distribution (length must be >= 1",
      "--prompt-len, 9:3, range 9:3 is empty",
      "--no-such-flag, 1, Unknown option",
      "--world-sizes, '1,0,4', --world-sizes must be >= 1",
      "--world-sizes, '1,2,2', --world-sizes lists 2 twice",
      "--goodput, latency:50, --goodput:",
      "--request-rate, fast, --request-rate: 'fast' is not a number",
      "--trace, /no/such/trace.jsonl, --trace:",
      "--backend, tpu, --backend must be auto, cpu or cuda",
      "--decode-path, fast, unknown decode path 'fast'",
      "--gemm, fast, --gemm must be auto, ours, cublaslt or skinny2 (was 'fast')",
      "--gpu-memory-fraction, 1.5, gpu memory fraction must be in (0, 1]",
      "--metrics-port, -2, --metrics-port must be in -1..65535, got -2",
      "--metrics-port, 70000, --metrics-port must be in -1..65535, got 70000",
      "--percentile-metrics, 'ttft,queue', --percentile-metrics: unknown metric \"queue\"",
      "--metric-percentiles, '50,101', --metric-percentiles: 101 is not in [0, 100]",
      "--metric-percentiles, '99,x', --metric-percentiles: 'x' is not a number",
      "--goodput, itl:0, --goodput:",
      "--profile-steps, -3, --profile-steps must be >= 0, got -3",
      "--prompt-len, 999999, --prompt-len 999999: a 999999-token prompt plus up to 128 output tokens exceeds model "
          + "tiny's context of 2048 tokens",
      "--output-len, 3000, --output-len 3000: a 256-token prompt plus up to 3000 output tokens exceeds model tiny's "
          + "context of 2048 tokens",
      "--on-overlength, cut, --on-overlength must be skip or error, got 'cut'",
      "--load-format, pickle, --load-format must be auto, dummy or safetensors, got 'pickle'",
      "--load-format, safetensors, --load-format safetensors needs --model DIR; tiny is a preset with dummy weights",
      "--quantization, int4, --quantization must be none, fp8 or fp8-dynamic, got 'int4'",
      "--kv-cache-dtype, fp16, --kv-cache-dtype must be auto or fp8, got 'fp16'",
  })
  void badValueGetsOneLineOnStderrAndExitCode2(String option, String value, String expected) throws Exception {
    Result r = runProcess(option, value);

    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "exactly one line on stderr, got: " + r.err());
    assertTrue(lines.get(0).startsWith("coordinator: "), lines.get(0));
    assertTrue(lines.get(0).contains(expected), lines.get(0));
    assertFalse(r.err().contains("Exception"), r.err());
    assertEquals("", r.out());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--request-rates 1,2 --max-concurrencies 1,2 | --request-rates and --max-concurrencies are exclusive",
      "--request-rates 1,2 --world-sizes 1,2 | --request-rates and --world-sizes are exclusive",
      "--max-concurrencies 4 --world-size 2 | --max-concurrencies and --world-size are exclusive",
      "--request-rates 1,2 | --request-rates needs --endpoint URL",
      "--served-model m | --served-model needs --endpoint URL",
      "--request-timeout 5 | --request-timeout needs --endpoint URL",
      "--temperature 0.5 | --temperature needs --endpoint URL",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --temperature -1 | --temperature must be a number >= 0, got '-1'",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --temperature warm | --temperature must be a number >= 0, got 'warm'",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-timeout 0 | --request-timeout: 0 is outside (0, 604800] seconds",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-timeout soon | --request-timeout: 'soon' is not a number of seconds",
      "--endpoint http://127.0.0.1:9/v1 | --endpoint needs --served-model NAME",
      "--endpoint ftp://127.0.0.1/v1 --served-model m | --endpoint: 'ftp://127.0.0.1/v1' is not an http:// or https://",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-rates 1,fast | --request-rates: 'fast' is not a number",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-rates 0 | request rate must be a finite number > 0",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-rates 2,2.0 | --request-rates lists 2 twice",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --max-concurrencies 0 | max concurrency must be >= 1, got 0",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --max-concurrencies 2.5 | '2.5' is not a whole number or inf",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --max-concurrencies 4,inf,INF | lists inf twice",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --request-rates 1 --request-rate 2 | --request-rates and "
          + "--request-rate are exclusive",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --max-concurrencies 1 --max-concurrency 2 | "
          + "--max-concurrencies and --max-concurrency are exclusive",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --layout tp=2 | --layout does not apply to --endpoint",
      "--endpoint http://127.0.0.1:9/v1 --served-model m --expectations e.json | --expectations does not apply",
  })
  void badClientModeCombinationGetsOneLineOnStderrAndExitCode2(String args, String expected) throws Exception {
    Result r = runProcess(args.trim().split(" +"));

    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "exactly one line on stderr, got: " + r.err());
    assertTrue(lines.get(0).startsWith("coordinator: "), lines.get(0));
    assertTrue(lines.get(0).contains(expected), lines.get(0));
    assertEquals("", r.out());
  }

  @Test
  void anEndpointNobodyListensOnFailsWithOneLineBeforeAnyRequest() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }

    Result r = runProcess("--endpoint", "http://127.0.0.1:" + port + "/v1", "--served-model", "m");

    assertEquals(1, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("coordinator: cannot reach http://127.0.0.1:" + port + "/v1: "), lines.get(0));
  }

  /** One line on stderr, exit code 2, nothing on stdout: what every refused command line gets. */
  private static String refusal(Result r) {
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "exactly one line on stderr, got: " + r.err());
    assertEquals("", r.out());
    return lines.get(0);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--turns 12 --prompt-len 100 --output-len 100 | coordinator: --turns 12: turn 12 of a conversation: a "
          + "2300-token prompt plus up to 100 output tokens exceeds model tiny's context of 2048 tokens",
      "--prompt-len lognormal:1500:1 --output-len 8 --num-requests 20 | coordinator: --prompt-len lognormal:1500:1: "
          + "request 2: a 2346-token prompt plus up to 8 output tokens exceeds model tiny's context of 2048 tokens "
          + "(--on-overlength skip leaves such requests out)",
      "--num-prefixes 2 --prefix-len 2047 --prompt-len 1 --output-len 1 | coordinator: --prefix-len 2047: a "
          + "2048-token prompt plus 1 output token exceeds model tiny's context of 2048 tokens",
      // Known once the fleet is loaded: the KV pool of 8 blocks of 16 tokens, below the context.
      "--world-size 1 --kv-blocks 8 --prompt-len 100 --output-len 50 --num-requests 2 --quiet | coordinator: "
          + "--output-len 50: a 100-token prompt plus up to 50 output tokens needs 10 KV blocks of 16 tokens; the "
          + "largest agent's KV pool holds 8",
  })
  void aWorkloadOverTheLengthLimitIsRefusedWithOneLineNamingTheFlagAndTheLimit(String args, String expected)
      throws Exception {
    assertEquals(expected, refusal(runProcess(args.trim().split(" +"))));
  }

  @Test
  void aTraceRowOverTheContextIsRefusedNamingItsLine(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("long.jsonl");
    java.nio.file.Files.writeString(trace, "{\"arrival_s\": 0, \"prompt_len\": 20, \"output_len\": 5}\n"
        + "{\"arrival_s\": 1, \"prompt_len\": 3000, \"output_len\": 10}\n");

    assertEquals("coordinator: --trace: " + trace + ":2: a 3000-token prompt plus up to 10 output tokens exceeds model "
        + "tiny's context of 2048 tokens (--on-overlength skip leaves such rows out)",
        refusal(runProcess("--trace", trace.toString())));
  }

  @Test
  void skippedTraceRowsAreLeftOutAndCountedInReportJson(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("mixed.jsonl");
    // Rows 2 (over tiny's context) and 3 (over a KV pool of 8 blocks of 16 tokens) are left out.
    java.nio.file.Files.writeString(trace, "{\"arrival_s\": 0, \"prompt_len\": 20, \"output_len\": 5}\n"
        + "{\"arrival_s\": 0.01, \"prompt_len\": 3000, \"output_len\": 5}\n"
        + "{\"arrival_s\": 0.02, \"prompt_len\": 100, \"output_len\": 50}\n"
        + "{\"arrival_s\": 0.03, \"prompt_len\": 30, \"output_len\": 6}\n");

    int code = CoordinatorCli.run("--trace", trace.toString(), "--on-overlength", "skip", "--world-size", "1",
        "--kv-blocks", "8", "--report-dir", dir.resolve("report").toString(), "--quiet");

    assertEquals(0, code);
    JsonNode report = ReportJson.read(dir.resolve("report").resolve("report.json"));
    assertEquals("skip", report.get("settings").get("on_overlength").asText());
    assertEquals(2, report.get("settings").get("overlength_skipped").asInt());
    JsonNode point = report.get("points").get(0);
    assertEquals(2, point.get("completed").asInt());
    assertEquals(0, point.get("failed").asInt());
    assertEquals(50, point.get("total_input_tokens").asInt());
    assertEquals(11, point.get("total_output_tokens").asInt(), "every kept request ran to its own output length");
  }

  @Test
  void helpListsEveryOptionTheIssueNames() throws Exception {
    Result r = runProcess("--help");

    assertEquals(0, r.code());
    for (String option : List.of("--world-size", "--model", "--num-requests", "--prompt-len", "--output-len",
        "--placement", "--seed", "--report-dir", "--verify", "--endpoint", "--served-model", "--api-key",
        "--request-rates", "--max-concurrencies", "--on-overlength", "--help")) {
      assertTrue(r.out().contains(option), option);
    }
  }

  @Test
  void emptyTraceIsRefusedWithOneLineNamingTheFile(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("empty.jsonl");
    java.nio.file.Files.writeString(trace, "\n");

    Result r = runProcess("--trace", trace.toString());

    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().lines().filter(l -> !l.isBlank()).count(), r.err());
    assertTrue(r.err().contains("empty.jsonl: no requests"), r.err());
  }

  @Test
  void malformedTraceLineIsReportedWithFileAndLine(@TempDir Path dir) throws Exception {
    Path trace = dir.resolve("bad.csv");
    java.nio.file.Files.writeString(trace, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        + "2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,many,109\n");

    Result r = runProcess("--trace", trace.toString());

    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("bad.csv:3:"), r.err());
  }

  @Test
  void withoutACudaDriverARunSaysSoInOneShortLineAndRunsOnTheCpu(@TempDir Path dir) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(io.decodefleet.agent.backend.cuda.driver.CudaDriver.isAvailable(),
        "this machine has a CUDA driver");
    Result r = runProcess("--world-size", "1", "--num-requests", "1", "--prompt-len", "8", "--output-len", "2",
        "--report-dir", dir.toString());

    assertEquals(0, r.code(), r.err());
    List<String> cuda = (r.out() + r.err()).lines().filter(l -> l.contains("CUDA") || l.contains("cuda")).toList();
    assertEquals(1, cuda.size(), "one line about CUDA: " + cuda);
    assertTrue(cuda.get(0).endsWith("no CUDA driver on this host (libcuda.so.1 not found): using the CPU backend"),
        cuda.get(0));
    assertTrue(cuda.get(0).length() < 160, "short: " + cuda.get(0));
    assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
  }

  @Test
  void runWritesReportJsonWithTheRunsMetrics(@TempDir Path dir) throws Exception {
    int code = CoordinatorCli.run("--world-size", "2", "--num-requests", "6", "--prompt-len", "8:40",
        "--output-len", "4:9", "--seed", "5", "--report-dir", dir.toString(), "--verify", "--quiet");

    assertEquals(0, code);
    JsonNode report = ReportJson.read(dir.resolve("report.json"));
    assertEquals("cpu", report.get("backend").asText());
    assertEquals("tiny", report.get("model").asText());
    assertTrue(report.get("hardware").asText().contains("cores"));
    assertTrue(report.get("command").asText().contains("--world-size 2"));
    assertEquals(1, report.get("points").size());
    JsonNode point = report.get("points").get(0);
    assertEquals(2, point.get("world_size").asInt());
    assertEquals(6, point.get("completed").asInt());
    assertEquals(0, point.get("failed").asInt());
    assertTrue(point.get("mean_ttft_ms").asDouble() > 0);
    assertTrue(point.get("verification").get("passed").asBoolean());
    assertEquals(2, point.get("agents").size());

    // requests.jsonl: one object per request, every token's time, the run's counts again.
    List<String> lines = java.nio.file.Files.readAllLines(dir.resolve("requests.jsonl"));
    assertEquals(6, lines.size());
    long tokens = 0;
    long promptTokens = 0;
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String line : lines) {
      JsonNode r = mapper.readTree(line);
      assertEquals(2, r.get("world_size").asInt());
      assertTrue(r.get("completed").asBoolean(), line);
      JsonNode times = r.get("token_arrivals_ms");
      assertEquals(r.get("output_tokens").asInt(), times.size(), line);
      assertTrue(r.get("released_ms").asDouble() >= 0, line);
      assertEquals(r.get("ttft_ms").asDouble(), times.get(0).asDouble() - r.get("released_ms").asDouble(), 1e-6);
      assertEquals(r.get("e2e_ms").asDouble(),
          times.get(times.size() - 1).asDouble() - r.get("released_ms").asDouble(), 1e-6);
      // The engine held it from its arrival there to its first step, then took its prefill to its
      // first token: both inside its TTFT, on one clock here.
      double queued = r.get("queue_ms").asDouble();
      double prefill = r.get("prefill_ms").asDouble();
      assertTrue(queued >= 0 && prefill > 0 && queued + prefill < r.get("ttft_ms").asDouble(), line);
      for (int i = 1; i < times.size(); i++) assertTrue(times.get(i).asDouble() >= times.get(i - 1).asDouble());
      tokens += times.size();
      promptTokens += r.get("prompt_tokens").asInt();
    }
    assertEquals(point.get("total_output_tokens").asLong(), tokens);
    assertEquals(point.get("total_input_tokens").asLong(), promptTokens);
  }
}
