package io.decodefleet.coordinator.workload;

/**
 * One benchmark request.
 *
 * @param arrivalNanos when it is released, relative to the start of the run
 * @param promptTokens (promptLen) token ids
 * @param maxTokens output tokens to generate
 */
public record RequestSpec(long requestId, long arrivalNanos, int[] promptTokens, int maxTokens) {}
