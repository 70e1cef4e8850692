package io.decodefleet.agent.backend.cuda.gemm;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.kernels.cuda.TensorMap;
import io.decodefleet.kernels.cuda.TensorMapSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The most recently used encoded tensor maps of one device's kernels, by what they describe: a
 * decode step's launches (and graph captures, which copy the parameters) reuse a weight's map
 * instead of encoding it again per launch, and a prompt's layers the maps of its q, k and v.
 */
public final class TensorMapCache {

  private final GpuInfo gpu;
  private final Map<TensorMapSpec, TensorMap> maps;

  /** Keeps at most {@code kept} maps, dropping the least recently used. */
  public TensorMapCache(GpuInfo gpu, int kept) {
    this.gpu = gpu;
    this.maps = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<TensorMapSpec, TensorMap> eldest) {
        return size() > kept;
      }
    };
  }

  /** The map of {@code spec}, encoded on first use ({@link TensorMaps#encode}). */
  public TensorMap get(TensorMapSpec spec) {
    TensorMap m = maps.get(spec);
    if (m == null) {
      m = TensorMaps.encode(spec, gpu);
      maps.put(spec, m);
    }
    return m;
  }
}
