package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsScrapeTest {
  private static final String TEXT = """
      # HELP decodefleet_migrations_total Sequences moved off a lost or drained agent.
      # TYPE decodefleet_migrations_total counter
      decodefleet_migrations_total{kind="kv"} 2.0
      decodefleet_migrations_total{kind="reprefill"} 5.0
      decodefleet_replacements_total 1.0
      jvm_gc_collection_seconds_count{gc="G1 Old Generation"} 7
      jvm_gc_collection_seconds_count{gc="G1 Young Generation"} 11
      jvm_memory_pool_collection_used_bytes{pool="G1 Eden Space"} 0.0
      jvm_memory_pool_collection_used_bytes{pool="G1 Old Gen"} 1.7502576E7
      jvm_memory_pool_collection_used_bytes{pool="G1 Survivor Space"} 1024.0
      vllm:request_success_total{finished_reason="length",model_name="tiny"} 42.0 1733360000000
      """;

  @Test
  void aSeriesIsReadWithLabelValuesThatHoldSpaces() {
    MetricsScrape s = MetricsScrape.parse(TEXT);
    assertEquals(7, s.sample("jvm_gc_collection_seconds_count{gc=\"G1 Old Generation\"}").getAsDouble());
    assertEquals(11, s.sample("jvm_gc_collection_seconds_count{gc=\"G1 Young Generation\"}").getAsDouble());
    assertEquals(2, s.sample("decodefleet_migrations_total{kind=\"kv\"}").getAsDouble());
    assertTrue(s.sample("decodefleet_migrations_total").isEmpty(), "a labelled metric has no unlabelled series");
  }

  @Test
  void aSumTakesEverySeriesOfOneMetricAndNoOther() {
    MetricsScrape s = MetricsScrape.parse(TEXT);
    assertEquals(7, s.sum("decodefleet_migrations_total"));
    assertEquals(1.7502576E7 + 1024, s.sum("jvm_memory_pool_collection_used_bytes"));
    assertEquals(1, s.sum("decodefleet_replacements_total"));
    assertEquals(42, s.sum("vllm:request_success_total"), "a trailing timestamp is not the value");
    assertEquals(0, s.sum("decodefleet_replacements"), "a metric whose name is a prefix of another is not summed");
  }
}
