package io.decodefleet.coordinator.metrics;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * An unmodifiable list of times in ms held as a {@code double[]}: a request's token arrivals and
 * inter-token gaps, which a record holds per token (boxed, a run of 32 million tokens would take
 * gigabytes).
 */
final class TimesMs extends AbstractList<Double> implements RandomAccess {
  private final double[] values;

  /** @param values taken as they are (not copied): the caller hands them over */
  TimesMs(double[] values) {
    this.values = values;
  }

  @Override
  public Double get(int index) {
    return values[index];
  }

  @Override
  public int size() {
    return values.length;
  }
}
