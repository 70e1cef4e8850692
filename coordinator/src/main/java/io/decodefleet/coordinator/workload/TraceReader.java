package io.decodefleet.coordinator.workload;

import io.decodefleet.coordinator.admission.LengthLimit;
import io.decodefleet.coordinator.admission.OverlengthPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Replays a recorded workload: arrival times and lengths from a trace file, the format chosen by
 * extension ({@code .jsonl}: see {@link JsonlTrace}; {@code .csv}: the Azure LLM inference trace
 * layout, see {@link AzureTraceCsv}). Both are UTF-8 (a byte order mark is dropped), with {@code \n}
 * or {@code \r\n} line ends; blank lines, trailing ones included, are skipped.
 */
public final class TraceReader {
  private TraceReader() {}

  /**
   * Reads {@code file} into requests with ids 0..n-1 in arrival order, each row checked against a
   * context of {@code maxContext} tokens: a row whose prompt and output exceed it is a
   * TraceFormatException naming its line, never cut.
   *
   * @throws TraceFormatException naming the file and line of the first bad line, or the file when it
   *     holds no requests or its extension is neither .jsonl nor .csv
   */
  public static List<RequestSpec> read(Path file, TraceOptions options, int vocabSize, int maxContext, long seed)
      throws IOException, TraceFormatException {
    try {
      return read(file, options, vocabSize, LengthLimit.context(null, maxContext), OverlengthPolicy.ERROR, seed)
          .requests();
    } catch (OverlengthException e) {
      throw new TraceFormatException(file, e.line(), e.problem());
    }
  }

  /**
   * Reads {@code file} into the requests to replay, with ids 0..n-1 in arrival order.
   *
   * <p>Requests are sorted by arrival (stably: ties keep file order), cut to the first {@code
   * options.maxRequests()}, and their offsets multiplied by {@code options.timeScale()}. A row whose
   * prompt and output do not fit {@code limit} is refused naming its line or, with {@link
   * OverlengthPolicy#SKIP}, left out and counted; it is never cut. Prompts given only as a length get
   * random token ids in [0, vocabSize) drawn from {@code seed} in arrival order of the rows replayed,
   * so the first N requests are the same whatever maxRequests is.
   *
   * @throws TraceFormatException naming the file and line of the first bad line, or the file when it
   *     holds no requests or its extension is neither .jsonl nor .csv
   * @throws OverlengthException naming the file and line of the first row over the limit (policy ERROR)
   */
  public static Workload read(Path file, TraceOptions options, int vocabSize, LengthLimit limit,
      OverlengthPolicy policy, long seed) throws IOException, TraceFormatException, OverlengthException {
    if (vocabSize < 1) throw new IllegalArgumentException("vocab size must be >= 1, got " + vocabSize);
    List<TraceEntry> entries = parse(file, vocabSize);
    if (entries.isEmpty()) throw new TraceFormatException(file, "no requests");

    List<TraceEntry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(TraceEntry::arrivalNanos)); // List.sort is stable
    int n = options.maxRequests() == 0 ? sorted.size() : Math.min(options.maxRequests(), sorted.size());

    SplittableRandom tokenRng = new SplittableRandom(seed);
    List<RequestSpec> requests = new ArrayList<>(n);
    int skipped = 0;
    for (int i = 0; i < n; i++) {
      TraceEntry e = sorted.get(i);
      String excess = limit.excess(e.promptLen(), e.outputLen());
      if (excess != null && policy == OverlengthPolicy.ERROR) throw new OverlengthException(file, e.line(), excess);
      if (excess != null) {
        skipped++;
        continue;
      }
      int[] tokens = e.promptTokens() != null ? e.promptTokens()
          : e.hashIds() != null ? hashedTokens(e.hashIds(), e.promptLen(), options.hashBlockSize(), vocabSize, seed,
              tokenRng)
          : WorkloadGenerator.randomTokens(e.promptLen(), vocabSize, tokenRng);
      requests.add(new RequestSpec(requests.size(), scaled(e.arrivalNanos(), options.timeScale()), tokens,
          e.outputLen()));
    }
    return new Workload(requests, skipped, n);
  }

  private static List<TraceEntry> parse(Path file, int vocabSize) throws IOException, TraceFormatException {
    String name = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
    boolean jsonl = name.endsWith(".jsonl");
    if (!jsonl && !name.endsWith(".csv")) {
      throw new TraceFormatException(file, "unknown trace format: expected a .jsonl or .csv file");
    }
    try (TraceText text = new TraceText(Files.newInputStream(file))) {
      return jsonl ? JsonlTrace.read(file, text, vocabSize) : AzureTraceCsv.read(file, text);
    }
  }

  /**
   * A Mooncake row's prompt: block i holds the tokens of hash id {@code hashIds[i]}, drawn from a
   * stream keyed by (seed, id) so every request naming an id gets the same tokens; tokens past the
   * named blocks come from the trace's own stream.
   */
  static int[] hashedTokens(long[] hashIds, int promptLen, int blockSize, int vocabSize, long seed,
      SplittableRandom rest) {
    int[] tokens = new int[promptLen];
    int at = 0;
    for (long id : hashIds) {
      if (at >= promptLen) break;
      SplittableRandom block = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
      for (int i = 0; i < blockSize && at < promptLen; i++) tokens[at++] = block.nextInt(vocabSize);
    }
    while (at < promptLen) tokens[at++] = rest.nextInt(vocabSize);
    return tokens;
  }

  /** Exact when the scale is 1; rounding is monotone, so the order survives any scale. */
  private static long scaled(long nanos, double timeScale) {
    return timeScale == 1.0 ? nanos : Math.round(nanos * timeScale);
  }
}
