package io.decodefleet.coordinator.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json}, run by Hugging Face's own Rust library (through DJL, see
 * {@link HfNativeLibrary}): encoding and decoding are exactly what {@code tokenizers} does, with no
 * truncation, no padding, and none of the Python-side clean-up of spaces before punctuation.
 *
 * <p>BOS and EOS come from the files beside tokenizer.json, as transformers and vLLM read them:
 * <ul>
 *   <li>BOS: {@code bos_token} of {@code tokenizer_config.json} (a string, or an object with a
 *       {@code content} string), resolved to its id in the vocabulary; else {@code bos_token_id} of
 *       {@code generation_config.json}. Whether encoding puts it in front is up to the tokenizer.json's
 *       post-processor, as in Hugging Face.</li>
 *   <li>EOS: {@code eos_token} of tokenizer_config.json first, then every id of {@code eos_token_id}
 *       of generation_config.json (one id or a list: Llama 3 instruct ends on both
 *       {@code <|end_of_text|>} and {@code <|eot_id|>}), without repeats.</li>
 * </ul>
 * A token string the vocabulary does not hold, or an id past it, is an error: the files do not belong
 * together.
 *
 * <p>Ids the vocabulary does not hold (past its end or in a gap) decode as {@code <|id:N|>}; the text
 * between them is decoded in runs, each run by the library.
 */
public final class HfTokenizer implements Tokenizer {

  /**
   * DJL's defaults truncate to 512 tokens and pad; a prompt is neither. Special tokens are asked for
   * per call.
   */
  private static final Map<String, String> OPTIONS = Map.of("truncation", "false", "padding", "false");

  private final Path file;
  private final HuggingFaceTokenizer library;
  private final TokenizerVocabulary vocabulary;
  private final OptionalInt bos;
  private final int[] eos;

  private HfTokenizer(Path file, HuggingFaceTokenizer library, TokenizerVocabulary vocabulary, OptionalInt bos,
      int[] eos) {
    this.file = file;
    this.library = library;
    this.vocabulary = vocabulary;
    this.bos = bos;
    this.eos = eos;
  }

  /**
   * Loads {@code tokenizerJson} (or {@code tokenizer.json} in that folder) and the optional files beside it.
   *
   * @throws IllegalArgumentException one line naming the file and the cause
   */
  static HfTokenizer load(Path tokenizerJson) {
    Path file = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
    if (!Files.exists(file)) {
      throw new IllegalArgumentException("tokenizer " + file + ": no such file");
    }
    TokenizerVocabulary vocabulary;
    try {
      vocabulary = TokenizerVocabulary.of(HfConfigFiles.readJson(file));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tokenizer " + (e.getMessage().startsWith(file.toString()) ? ""
          : file + ": ") + e.getMessage());
    }
    if (!HfNativeLibrary.isAvailable()) {
      throw new IllegalArgumentException("tokenizer " + file + ": " + HfNativeLibrary.unavailabilityCause());
    }
    HuggingFaceTokenizer library;
    try {
      library = HuggingFaceTokenizer.newInstance(file, OPTIONS);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("tokenizer " + file + ": Hugging Face tokenizers rejects it: "
          + HfNativeLibrary.causes(e));
    }
    Path folder = file.toAbsolutePath().getParent();
    try {
      HfConfigFiles.TokenizerConfig config = HfConfigFiles.tokenizerConfig(folder);
      HfConfigFiles.GenerationConfig generation = HfConfigFiles.generationConfig(folder);
      OptionalInt bos = config.bosToken().isPresent()
          ? OptionalInt.of(resolve(vocabulary, config.bosToken().get(), "bos_token", folder))
          : checked(vocabulary, generation.bosTokenId(), "bos_token_id", folder);
      Set<Integer> eos = new LinkedHashSet<>();
      config.eosToken().ifPresent(t -> eos.add(resolve(vocabulary, t, "eos_token", folder)));
      for (int id : generation.eosTokenIds()) {
        eos.add(checked(vocabulary, OptionalInt.of(id), "eos_token_id", folder).getAsInt());
      }
      return new HfTokenizer(file, library, vocabulary, bos, eos.stream().mapToInt(Integer::intValue).toArray());
    } catch (IllegalArgumentException e) {
      library.close();
      throw new IllegalArgumentException("tokenizer " + e.getMessage());
    }
  }

  private static int resolve(TokenizerVocabulary vocabulary, String token, String field, Path folder) {
    return vocabulary.id(token).orElseThrow(() -> new IllegalArgumentException(folder.resolve(
        HfConfigFiles.TOKENIZER_CONFIG) + ": " + field + " \"" + token + "\" is not in the vocabulary of "
        + "tokenizer.json"));
  }

  private static OptionalInt checked(TokenizerVocabulary vocabulary, OptionalInt id, String field, Path folder) {
    if (id.isPresent() && !vocabulary.contains(id.getAsInt())) {
      throw new IllegalArgumentException(folder.resolve(HfConfigFiles.GENERATION_CONFIG) + ": " + field + " "
          + id.getAsInt() + " is not in the vocabulary of tokenizer.json (ids 0.." + (vocabulary.size() - 1) + ")");
    }
    return id;
  }

  @Override
  public int[] encode(String text, boolean addSpecialTokens) {
    long[] ids = library.encode(text, addSpecialTokens, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder text = new StringBuilder();
    List<Long> run = new ArrayList<>();
    for (int id : ids) {
      if (vocabulary.contains(id)) {
        run.add((long) id);
        continue;
      }
      text.append(decodeRun(run, skipSpecialTokens)).append(Tokenizer.unknownIdText(id));
      run.clear();
    }
    return text.append(decodeRun(run, skipSpecialTokens)).toString();
  }

  private String decodeRun(List<Long> run, boolean skipSpecialTokens) {
    return run.isEmpty() ? "" : library.decode(run.stream().mapToLong(Long::longValue).toArray(), skipSpecialTokens);
  }

  @Override
  public OptionalInt bosTokenId() {
    return bos;
  }

  @Override
  public int[] eosTokenIds() {
    return eos.clone();
  }

  @Override
  public int vocabSize() {
    return vocabulary.size();
  }

  @Override
  public String name() {
    return file.toString();
  }

  @Override
  public String token(int id) {
    return vocabulary.token(id);
  }

  @Override
  public String toString() {
    return "HfTokenizer[" + file + ", " + vocabulary.size() + " ids, bos " + bos + ", eos " + Arrays.toString(eos)
        + "]";
  }
}
