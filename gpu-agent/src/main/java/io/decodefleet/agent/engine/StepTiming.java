package io.decodefleet.agent.engine;

/**
 * How a backend ran its last {@link Backend#forward} step, for the engine's per-step metrics.
 *
 * @param path what ran the step, e.g. "persistent+graph" (a graph replay) or "persistent" (eager
 *     launches of the same decode path); a backend with one way of running says its own name
 * @param bucket the batch bucket the step was padded to (its row count when it was not padded)
 * @param hostNanos host time from the step's inputs being ready to the last launch returning
 * @param gpuMicros device time of the step (inputs copied in through logits copied out), from
 *     events; NaN when not measured
 * @param idleGapMicros device time between the end of the previous step and the start of this
 *     one; NaN for the first step or when not measured
 */
public record StepTiming(String path, int bucket, long hostNanos, double gpuMicros, double idleGapMicros) {}
