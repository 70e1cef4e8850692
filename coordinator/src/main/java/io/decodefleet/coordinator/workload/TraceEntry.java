package io.decodefleet.coordinator.workload;

/**
 * One request as a trace file states it, before sorting, scaling and clamping.
 *
 * @param arrivalNanos offset from the start of the trace, ≥ 0
 * @param promptTokens (promptLen) token ids when the trace gives them, else null
 * @param promptLen prompt length in tokens, ≥ 1
 * @param outputLen tokens to generate, ≥ 1
 */
record TraceEntry(long arrivalNanos, int[] promptTokens, int promptLen, int outputLen) {}
