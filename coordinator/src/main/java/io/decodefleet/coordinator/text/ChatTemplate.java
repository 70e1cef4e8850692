package io.decodefleet.coordinator.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns the {@code messages} of an OpenAI chat request into the prompt text the model was trained on.
 *
 * <p>Where the template comes from, first found wins ({@link #load}):
 * <ol>
 *   <li>a file given explicitly ({@code --chat-template PATH}, as vLLM has): a Jinja2 template;</li>
 *   <li>{@code chat_template.jinja} beside the tokenizer.json (where recent transformers save it);</li>
 *   <li>the {@code chat_template} field of {@code tokenizer_config.json} beside the tokenizer.json;</li>
 *   <li>the built-in default below.</li>
 * </ol>
 *
 * <p>The built-in default is not any model's real format; it only makes chat usable on models that
 * have none (random weights, the byte tokenizer). For each message, {@code <|role|>}, a newline, the
 * content and a newline; then, when a generation prompt is asked for, {@code <|assistant|>} and a
 * newline. [{@code system: "Be brief."}, {@code user: "Hi"}] becomes
 * {@code "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n"}.
 *
 * <p>Jinja templates are rendered by HubSpot's jinjava, set up as transformers sets up Jinja2
 * ({@code trim_blocks} and {@code lstrip_blocks} on) and with the variables transformers passes:
 * {@code messages} (a list of {@code {role, content}}), {@code add_generation_prompt},
 * {@code bos_token} and {@code eos_token} (the strings of the tokenizer's BOS and first EOS id; left
 * undefined when it has none), and the function {@code raise_exception(message)}. Jinjava is not
 * Jinja2: Python's string methods that Java's String lacks ({@code startswith}, {@code endswith},
 * {@code lstrip}, {@code upper}, ...) fail to render, and booleans print as {@code true}/{@code false};
 * {@code strip()}, {@code split()} (a regex in Java), {@code replace()}, filters, loops, {@code namespace()}
 * and slicing behave as in Jinja2. {@code include}/{@code import} are refused.
 *
 * <p>How the prompt is then encoded is {@link #encodeWithSpecialTokens()}: a Jinja template writes
 * {@code bos_token} itself where the model wants it, so its prompt is encoded without adding special
 * tokens (as transformers and vLLM do); the built-in default writes none.
 */
public final class ChatTemplate {

  /** How {@link #origin()} names the built-in default. */
  public static final String BUILT_IN = "built-in";

  /** the Jinja source; null for the built-in default */
  private final String source;
  private final String origin;
  private final Optional<String> bosToken;
  private final Optional<String> eosToken;

  private ChatTemplate(String source, String origin, Optional<String> bosToken, Optional<String> eosToken) {
    this.source = source;
    this.origin = origin;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
  }

  /** The built-in default (see the class comment). */
  public static ChatTemplate builtIn() {
    return new ChatTemplate(null, BUILT_IN, Optional.empty(), Optional.empty());
  }

  /**
   * A Jinja2 template.
   *
   * @param origin how errors name it, e.g. the file it came from
   * @throws IllegalArgumentException one line, when jinjava cannot parse it
   */
  public static ChatTemplate jinja(String source, String origin, Optional<String> bosToken,
      Optional<String> eosToken) {
    JinjavaInterpreter interpreter = Engine.JINJAVA.newInterpreter();
    interpreter.parse(source);
    Optional<TemplateError> error = interpreter.getErrors().stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).findFirst();
    if (error.isPresent()) {
      throw new IllegalArgumentException("chat template " + origin + ": line " + error.get().getLineno() + ": "
          + oneLine(error.get().getMessage()));
    }
    return new ChatTemplate(source, origin, bosToken, eosToken);
  }

  /**
   * The chat template of a model, found as the class comment says.
   *
   * @param chatTemplateOrNull an explicit Jinja2 template file ({@code --chat-template}), or null
   * @param tokenizerJsonOrNull the model's tokenizer.json (or its folder), or null for the byte tokenizer
   * @param tokenizer the model's tokenizer: its BOS and EOS strings become {@code bos_token}, {@code eos_token}
   * @throws IllegalArgumentException one line naming the file and the cause
   */
  public static ChatTemplate load(Path chatTemplateOrNull, Path tokenizerJsonOrNull, Tokenizer tokenizer) {
    Optional<String> bos = tokenizer.bosTokenId().stream().mapToObj(tokenizer::token).findFirst();
    int[] eosIds = tokenizer.eosTokenIds();
    Optional<String> eos = eosIds.length == 0 ? Optional.empty() : Optional.of(tokenizer.token(eosIds[0]));
    if (chatTemplateOrNull != null) {
      return jinja(read(chatTemplateOrNull), chatTemplateOrNull.toString(), bos, eos);
    }
    if (tokenizerJsonOrNull == null) {
      return builtIn();
    }
    Path folder = (Files.isDirectory(tokenizerJsonOrNull) ? tokenizerJsonOrNull
        : tokenizerJsonOrNull.toAbsolutePath().getParent());
    Path beside = folder.resolve(HfConfigFiles.CHAT_TEMPLATE);
    if (Files.exists(beside)) {
      return jinja(read(beside), beside.toString(), bos, eos);
    }
    Optional<String> fromConfig;
    try {
      fromConfig = HfConfigFiles.tokenizerConfig(folder).chatTemplate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("chat template " + e.getMessage());
    }
    return fromConfig.map(s -> jinja(s, folder.resolve(HfConfigFiles.TOKENIZER_CONFIG) + " chat_template", bos, eos))
        .orElseGet(ChatTemplate::builtIn);
  }

  /**
   * The prompt for {@code messages}.
   *
   * @param addGenerationPrompt whether to end with what starts the assistant's reply
   * @throws IllegalArgumentException when the template calls {@code raise_exception}: its message,
   *     as is (the messages are not what the template accepts, e.g. roles that do not alternate)
   * @throws IllegalStateException when the template itself fails (an unknown function, a Python-only
   *     method): the origin, the line and jinjava's message (jinjava's line numbers are approximate:
   *     inside block tags it may name the line of an enclosing tag)
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    if (source == null) {
      StringBuilder prompt = new StringBuilder();
      for (ChatMessage m : messages) {
        prompt.append("<|").append(m.role()).append("|>\n").append(m.content()).append('\n');
      }
      return addGenerationPrompt ? prompt.append("<|assistant|>\n").toString() : prompt.toString();
    }
    List<Map<String, String>> dicts = new ArrayList<>();
    for (ChatMessage m : messages) {
      Map<String, String> dict = new LinkedHashMap<>();
      dict.put("role", m.role());
      dict.put("content", m.content());
      dicts.add(dict);
    }
    List<Map.Entry<String, ?>> variables = new ArrayList<>();
    variables.add(Map.entry("messages", dicts));
    variables.add(Map.entry("add_generation_prompt", addGenerationPrompt));
    bosToken.ifPresent(t -> variables.add(Map.entry("bos_token", t)));
    eosToken.ifPresent(t -> variables.add(Map.entry("eos_token", t)));
    RenderResult result = Engine.JINJAVA.renderForResult(source,
        variables.stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() != TemplateError.ErrorType.FATAL) {
        continue;
      }
      for (Throwable t = error.getException(); t != null; t = t.getCause()) {
        if (t instanceof TemplateRaised raised) {
          throw new IllegalArgumentException(raised.getMessage());
        }
      }
      throw new IllegalStateException("chat template " + origin + ": line " + error.getLineno() + ": "
          + oneLine(error.getMessage()));
    }
    return result.getOutput();
  }

  /**
   * The {@code addSpecialTokens} to encode a rendered prompt with: false for a Jinja template (it
   * writes {@code bos_token} itself), true for the built-in default (the tokenizer then puts its BOS
   * in front).
   */
  public boolean encodeWithSpecialTokens() {
    return source == null;
  }

  /** Where the template came from: a file, a file and field, or {@value #BUILT_IN}. */
  public String origin() {
    return origin;
  }

  @Override
  public String toString() {
    return "ChatTemplate[" + origin + "]";
  }

  private static String read(Path file) {
    try {
      return HfConfigFiles.readText(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("chat template " + e.getMessage());
    }
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** What {@code raise_exception} throws: recognised through jinjava's wrapping, to fail with its message. */
  private static final class TemplateRaised extends RuntimeException {
    TemplateRaised(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code raise_exception(message)} of the templates; called by jinjava through reflection. */
  @SuppressWarnings("unused")
  private static String raiseException(String message) {
    throw new TemplateRaised(message);
  }

  /** One jinjava for every template (it is thread-safe), made when the first Jinja template is. */
  private static final class Engine {
    static final Jinjava JINJAVA = newJinjava();
  }

  private static Jinjava newJinjava() {
    // The overrides that make jinjava behave as Jinja2 does where chat templates notice (whitespace
    // control, operator precedence, Python-style printing of lists and dicts, iterating a dict's keys).
    LegacyOverrides jinja2 = LegacyOverrides.newBuilder()
        .withEvaluateMapKeys(true)
        .withIterateOverMapKeys(true)
        .withUsePyishObjectMapper(true)
        .withUseNaturalOperatorPrecedence(true)
        .withParseWhitespaceControlStrictly(true)
        .withUseTrimmingForNotesAndExpressions(true)
        .withKeepNullableLoopValues(true)
        .build();
    Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        .withLegacyOverrides(jinja2)
        .build());
    jinjava.setResourceLocator((name, encoding, interpreter) -> {
      throw new IOException("chat templates cannot include or import other templates (" + name + ")");
    });
    try {
      Method raise = ChatTemplate.class.getDeclaredMethod("raiseException", String.class);
      raise.setAccessible(true);
      jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", raise));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException("ChatTemplate.raiseException is declared above", e);
    }
    return jinjava;
  }
}
