package io.decodefleet.agent.engine;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A step's sampled tokens by sequence id, in sample-row order: the map {@link ModelRunner#appendSampled}
 * returns, held as two primitive arrays and an id index, so that a decode step of 256 sequences
 * boxes no id or token to hand its tokens to the scheduler ({@link #tokenOf}). Read-only.
 */
public final class SampledTokens extends AbstractMap<Long, Integer> {
  private final long[] ids;
  private final int[] tokens;
  private final LongIntMap rowOf;

  /** {@code tokens[i]} was sampled for sequence {@code ids[i]}; the ids are distinct. */
  SampledTokens(long[] ids, int[] tokens) {
    if (ids.length != tokens.length) {
      throw new IllegalArgumentException(tokens.length + " tokens for " + ids.length + " sequences");
    }
    this.ids = ids.clone();
    this.tokens = tokens.clone();
    this.rowOf = new LongIntMap(ids.length);
    for (int i = 0; i < ids.length; i++) rowOf.put(ids[i], i);
  }

  /**
   * The token {@code sampled} holds for sequence {@code id}, or -1 when it holds none: without boxing
   * when it is a SampledTokens, through {@link Map#get} otherwise (a caller's own map).
   */
  public static int tokenOf(Map<Long, Integer> sampled, long id) {
    if (sampled instanceof SampledTokens s) {
      int row = s.rowOf.get(id);
      return row < 0 ? -1 : s.tokens[row];
    }
    Integer token = sampled.get(id);
    return token == null ? -1 : token;
  }

  @Override
  public int size() {
    return ids.length;
  }

  @Override
  public boolean containsKey(Object key) {
    return key instanceof Long id && rowOf.contains(id);
  }

  @Override
  public Integer get(Object key) {
    if (!(key instanceof Long id)) return null;
    int row = rowOf.get(id);
    return row < 0 ? null : tokens[row];
  }

  @Override
  public Set<Map.Entry<Long, Integer>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public int size() {
        return ids.length;
      }

      @Override
      public Iterator<Map.Entry<Long, Integer>> iterator() {
        return new Iterator<>() {
          private int row;

          @Override
          public boolean hasNext() {
            return row < ids.length;
          }

          @Override
          public Map.Entry<Long, Integer> next() {
            if (row >= ids.length) throw new NoSuchElementException();
            Map.Entry<Long, Integer> e = new SimpleImmutableEntry<>(ids[row], tokens[row]);
            row++;
            return e;
          }
        };
      }
    };
  }
}
