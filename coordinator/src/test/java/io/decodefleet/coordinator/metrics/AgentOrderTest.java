package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentOrderTest {

  @Test
  void numericSuffixesCompareByValue() {
    List<String> ids = new ArrayList<>(List.of("agent-10", "agent-2", "agent-1", "agent-100"));
    ids.sort(AgentOrder.INSTANCE);
    assertEquals(List.of("agent-1", "agent-2", "agent-10", "agent-100"), ids);
  }

  @Test
  void textDecidesBeforeNumbersAndPrefixesComeFirst() {
    List<String> ids = new ArrayList<>(List.of("node-b-1", "node-a-2", "node-a", "gpu-3"));
    ids.sort(AgentOrder.INSTANCE);
    assertEquals(List.of("gpu-3", "node-a", "node-a-2", "node-b-1"), ids);
  }

  @Test
  void leadingZerosAndHugeNumbersStillGiveATotalOrder() {
    assertTrue(AgentOrder.INSTANCE.compare("a-01", "a-1") != 0);
    assertEquals(0, AgentOrder.INSTANCE.compare("a-1", "a-1"));
    assertTrue(AgentOrder.INSTANCE.compare("a-99999999999999999999", "a-100000000000000000000") < 0);
    assertTrue(AgentOrder.INSTANCE.compare("a-02", "a-10") < 0);
  }
}
