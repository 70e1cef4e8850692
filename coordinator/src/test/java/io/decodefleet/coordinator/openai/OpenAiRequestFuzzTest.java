package io.decodefleet.coordinator.openai;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.BoundedTry;
import io.decodefleet.coordinator.JsonArbitraries;
import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.generation.InvalidField;
import io.decodefleet.coordinator.generation.ModelLimits;
import io.decodefleet.coordinator.generation.ServableRequests;
import io.decodefleet.coordinator.text.ByteTokenizer;
import io.decodefleet.coordinator.text.ChatTemplate;
import io.decodefleet.coordinator.text.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Whatever body a client posts to {@code /v1/completions} or {@code /v1/chat/completions}, {@link
 * OpenAiRequest#read} gives a request the fleet can serve as it stands, or an {@link InvalidField}
 * (the server's 400) whose {@code param} is a field of that body, {@code body} itself, or a field
 * the endpoint requires; never another exception (the server's 500), a hang, or memory out of
 * proportion to the body.
 */
class OpenAiRequestFuzzTest {
  /** On a fleet whose largest KV pool (120 blocks of 16: 1920 tokens) holds less than the context (2048). */
  private static final ModelLimits LIMITS = new ModelLimits(1024, new int[] {ByteTokenizer.EOS_ID}, 16,
      LengthLimit.context("tiny", 2048).withKvPool(120, 16));
  private static final Tokenizer TOKENIZER = new ByteTokenizer();
  /** A model's own template (Jinja, refusing roles it does not know), beside the built-in one. */
  private static final OpenAiRequest.Prompts JINJA = new TemplatePrompts(TOKENIZER, ChatTemplate.jinja(
      "{% for m in messages %}{% if m['role'] not in ['system', 'user', 'assistant'] %}"
          + "{{ raise_exception('unknown role ' + m['role']) }}{% endif %}"
          + "{{ '<|' + m['role'] + '|>' + m['content'] | trim }}{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}",
      "test", Optional.of(ByteTokenizer.BEGIN_OF_TEXT), Optional.of(ByteTokenizer.END_OF_TEXT)));
  private static final OpenAiRequest.Prompts BUILT_IN = new TemplatePrompts(TOKENIZER, ChatTemplate.builtIn());
  private static final Duration LIMIT = Duration.ofSeconds(10);
  /** Bodies are a few KB; a prompt at most the context. */
  private static final long MAX_BYTES = 32L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper ONE_DOCUMENT = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> FIELDS = List.of("model", "prompt", "messages", "max_tokens",
      "max_completion_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stop_token_ids", "ignore_eos",
      "min_tokens", "stream", "stream_options", "skip_special_tokens", "return_token_ids", "user", "n",
      "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "logprobs", "echo", "best_of",
      "suffix", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "response_format", "include_usage",
      "continuous_usage_stats", "role", "content", "type", "text");

  /** A body, the endpoint it is posted to, and the chat template that endpoint uses. */
  record Post(byte[] body, boolean chat, boolean jinja) {
    @Override
    public String toString() {
      return (chat ? "chat" : "completions") + (jinja ? " (jinja)" : "") + ": "
          + new String(body, StandardCharsets.UTF_8);
    }
  }

  // ---------------------------------------------------------------- properties

  @Property(tries = 1000)
  void everyJsonBodyIsServableOrA400NamingItsField(@ForAll("jsonPosts") Post post) throws Exception {
    assertServableOrNamesAField(post);
  }

  @Property(tries = 600)
  void everyBodyOfBytesIsServableOrA400NamingItsField(@ForAll("bytePosts") Post post) throws Exception {
    assertServableOrNamesAField(post);
  }

  // ---------------------------------------------------------------- oracle

  private static void assertServableOrNamesAField(Post post) throws Exception {
    BoundedTry.Outcome<OpenAiRequest> o = BoundedTry.call(LIMIT, MAX_BYTES,
        () -> OpenAiRequest.read(post.body(), post.chat(), post.jinja() ? JINJA : BUILT_IN, LIMITS));
    if (o.thrown() == null) {
      ServableRequests.assertServable(o.value().generation(), LIMITS);
      assertTrue(o.value().model() != null);
      try {
        ONE_DOCUMENT.readTree(post.body());
      } catch (Exception e) {
        throw new AssertionError("accepted a body that is not one JSON document: " + e.getMessage(), e);
      }
      return;
    }
    if (!(o.thrown() instanceof InvalidField e)) {
      throw new AssertionError("not a 400 (InvalidField) but " + o.thrown(), o.thrown());
    }
    String field = e.field();
    assertTrue(field != null && e.getMessage().startsWith(field + ": "), e.getMessage());
    // A field of the body by its own name (an unknown one may hold '.' or be ""), or a path inside one.
    Set<String> allowed = namable(post);
    assertTrue(allowed.contains(field) || allowed.contains(field.split("[.\\[]", 2)[0]),
        "param '" + field + "' is not a field of the body (" + allowed + "): " + e.getMessage());
  }

  /** What a 400 may name: the body, a field the body has, or a field the endpoint requires. */
  private static Set<String> namable(Post post) {
    Set<String> names = new HashSet<>(List.of("body", "model", post.chat() ? "messages" : "prompt"));
    try {
      JsonNode body = JSON.readTree(post.body());
      if (body != null && body.isObject()) body.fieldNames().forEachRemaining(names::add);
    } catch (Exception e) {
      // not JSON: only "body" can be meant
    }
    return names;
  }

  // ---------------------------------------------------------------- bodies

  @Provide
  Arbitrary<Post> jsonPosts() {
    Arbitrary<Boolean> bool = Arbitraries.of(true, false);
    Arbitrary<JsonNode> anyBody = JsonArbitraries.values(3, FIELDS);
    Arbitrary<Boolean> streamed = Arbitraries.frequency(Tuple.of(1, true), Tuple.of(2, false));
    Arbitrary<JsonNode> meant = Combinators.combine(bool, prompt(), messages(), streamed,
            extraFields().list().ofMaxSize(6))
        .as((chat, prompt, messages, stream, extra) -> {
          ObjectNode o = NODES.objectNode().put("model", "tiny");
          o.set(chat ? "messages" : "prompt", chat ? messages : prompt);
          if (stream) o.put("stream", true);
          extra.forEach(f -> o.set(f.getKey(), f.getValue()));
          return o;
        });
    Arbitrary<JsonNode> body = Arbitraries.frequencyOf(Tuple.of(5, meant), Tuple.of(1, anyBody));
    return Combinators.combine(body, bool, bool).as((b, chat, jinja) -> new Post(bytes(b), chat, jinja));
  }

  /** A completion's prompt: text, token ids, one of those in a list, or any JSON. */
  private static Arbitrary<JsonNode> prompt() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.strings().ofMaxLength(60).map(NODES::textNode)),
        Tuple.of(2, Arbitraries.integers().between(0, 1023).list().ofMinSize(1).ofMaxSize(40).map(OpenAiRequestFuzzTest::array)),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(1000).ofMaxLength(2100).map(NODES::textNode)),
        Tuple.of(1, Arbitraries.integers().list().ofMaxSize(2100).map(OpenAiRequestFuzzTest::array)),
        Tuple.of(1, JsonArbitraries.values(2, List.of()).map(v -> NODES.arrayNode().add(v))),
        Tuple.of(1, JsonArbitraries.values(2, List.of())));
  }

  /** A chat's messages: {role, content} objects with content as text or parts, or any JSON. */
  private static Arbitrary<JsonNode> messages() {
    Arbitrary<JsonNode> role = Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.of("system", "user", "assistant").map(NODES::textNode)),
        Tuple.of(1, JsonArbitraries.strings()),
        Tuple.of(1, JsonArbitraries.numbers()));
    Arbitrary<JsonNode> part = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.strings().ofMaxLength(20).map(t -> NODES.objectNode().put("type", "text").put("text", t))),
        Tuple.of(1, JsonArbitraries.objects(JsonArbitraries.values(1, FIELDS), FIELDS, 3)));
    Arbitrary<JsonNode> content = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.strings().all().ofMaxLength(40).map(NODES::textNode)),
        Tuple.of(1, Arbitraries.strings().ofMinLength(1000).ofMaxLength(2100).map(NODES::textNode)),
        Tuple.of(1, part.list().ofMaxSize(3).map(OpenAiRequestFuzzTest::arrayOf)),
        Tuple.of(1, JsonArbitraries.values(1, FIELDS)));
    Arbitrary<JsonNode> message = Arbitraries.frequencyOf(
        Tuple.of(6, Combinators.combine(role, content).as((r, c) -> NODES.objectNode().<ObjectNode>set("role", r)
            .set("content", c))),
        Tuple.of(1, JsonArbitraries.values(2, FIELDS)));
    return Arbitraries.frequencyOf(
        Tuple.of(6, message.list().ofMaxSize(5).map(OpenAiRequestFuzzTest::arrayOf)),
        Tuple.of(1, JsonArbitraries.values(2, FIELDS)));
  }

  /** A field of the API with a value its clients send, or any JSON value. */
  private static Arbitrary<Map.Entry<String, JsonNode>> extraFields() {
    Arbitrary<Map.Entry<String, JsonNode>> meant = Arbitraries.oneOf(List.of(
        entry("max_tokens", Arbitraries.integers().between(1, 2100).map(NODES::numberNode)),
        entry("max_completion_tokens", Arbitraries.integers().between(1, 2100).map(NODES::numberNode)),
        entry("temperature", Arbitraries.doubles().between(0, 2).map(NODES::numberNode)),
        entry("top_p", Arbitraries.doubles().between(0.01, 1).map(NODES::numberNode)),
        entry("top_k", Arbitraries.of(-1, 0, 1, 40).map(NODES::numberNode)),
        entry("seed", Arbitraries.longs().map(NODES::numberNode)),
        entry("stop", Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(4).map(NODES::textNode)),
        entry("stop_token_ids", Arbitraries.integers().between(0, 1023).list().ofMaxSize(3).map(OpenAiRequestFuzzTest::array)),
        entry("ignore_eos", Arbitraries.of(true, false).map(NODES::booleanNode)),
        entry("min_tokens", Arbitraries.integers().between(0, 4).map(NODES::numberNode)),
        entry("stream", Arbitraries.of(true, false).map(NODES::booleanNode)),
        entry("stream_options", Arbitraries.oneOf(Arbitraries.of(true, false).map(NODES::booleanNode),
            JsonArbitraries.values(1, FIELDS)).map(v -> NODES.objectNode().set("include_usage", v))),
        entry("skip_special_tokens", Arbitraries.of(true, false).map(NODES::booleanNode)),
        entry("return_token_ids", Arbitraries.of(true, false).map(NODES::booleanNode)),
        entry("user", Arbitraries.strings().ofMaxLength(8).map(NODES::textNode)),
        entry("n", Arbitraries.just(NODES.numberNode(1))),
        entry("logprobs", Arbitraries.just(NODES.booleanNode(false))),
        entry("response_format", Arbitraries.just(NODES.objectNode().put("type", "text")))));
    Arbitrary<Map.Entry<String, JsonNode>> any = Combinators.combine(
        Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.of(FIELDS)), Tuple.of(1, Arbitraries.strings().all().ofMaxLength(10))),
        JsonArbitraries.values(2, FIELDS)).as(Map::entry);
    return Arbitraries.frequencyOf(Tuple.of(2, meant), Tuple.of(1, any));
  }

  private static Arbitrary<Map.Entry<String, JsonNode>> entry(String key, Arbitrary<JsonNode> value) {
    return value.map(v -> Map.entry(key, v));
  }

  @Provide
  Arbitrary<Post> bytePosts() {
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<byte[]> edited = Combinators.combine(jsonPosts().map(Post::body),
        Arbitraries.integers().between(0, 1 << 16), Arbitraries.bytes(), Arbitraries.integers().between(0, 2))
        .as((body, at, value, kind) -> {
          List<Byte> b = new ArrayList<>();
          for (byte x : body) b.add(x);
          int i = b.isEmpty() ? 0 : at % (b.size() + 1);
          if (kind == 0 && i < b.size()) b.set(i, value);
          else if (kind == 1 && i < b.size()) b.subList(i, Math.min(b.size(), i + 1 + (at & 7))).clear();
          else b.add(i, value);
          byte[] out = new byte[b.size()];
          for (int k = 0; k < out.length; k++) out[k] = b.get(k);
          return out;
        });
    Arbitrary<byte[]> text = Arbitraries.of("", " ", "null", "[]", "{}", "{\"model\": \"tiny\", \"prompt\": \"a\"} x",
        "{\"model\": \"tiny\", \"prompt\": \"a\"} {}", "\uFEFF{\"model\": \"tiny\", \"prompt\": \"a\"}",
        "{\"model\": \"tiny\", \"prompt\": \"a\", \"max_tokens\": 1e999}", "[".repeat(5000))
        .map(s -> s.getBytes(StandardCharsets.UTF_8));
    Arbitrary<Boolean> bool = Arbitraries.of(true, false);
    return Combinators.combine(Arbitraries.frequencyOf(Tuple.of(2, random), Tuple.of(4, edited), Tuple.of(1, text)),
        bool, bool).as(Post::new);
  }

  private static byte[] bytes(JsonNode body) {
    return body.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static JsonNode array(List<Integer> ints) {
    return arrayOf(ints.stream().map(i -> (JsonNode) NODES.numberNode(i)).toList());
  }

  private static JsonNode arrayOf(List<JsonNode> nodes) {
    return NODES.arrayNode().addAll(nodes);
  }
}
