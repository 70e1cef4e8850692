package io.decodefleet.coordinator.workload;

/**
 * One request as a trace file states it, before sorting and scaling.
 *
 * @param arrivalNanos offset from the start of the trace, ≥ 0
 * @param promptTokens (promptLen) token ids when the trace gives them, else null
 * @param promptLen prompt length in tokens, ≥ 1
 * @param outputLen tokens to generate, ≥ 1
 * @param hashIds the prompt's blocks as the Mooncake trace names them (equal ids, equal tokens), else null
 * @param line the file's line that states it, counted from 1 (what an error about it names)
 */
record TraceEntry(long arrivalNanos, int[] promptTokens, int promptLen, int outputLen, long[] hashIds, int line) {
  TraceEntry(long arrivalNanos, int[] promptTokens, int promptLen, int outputLen, int line) {
    this(arrivalNanos, promptTokens, promptLen, outputLen, null, line);
  }
}
