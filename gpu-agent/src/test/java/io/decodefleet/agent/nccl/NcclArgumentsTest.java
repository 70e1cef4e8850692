package io.decodefleet.agent.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.decodefleet.agent.nccl.Nccl.DataType;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Arguments that can never be valid are refused in Java, before any native call: these hold with
 * or without NCCL (without it, a call that got past its checks would throw IllegalStateException
 * instead), and each message names the wrapper and the parameter.
 */
class NcclArgumentsTest {

  private static final byte[] ID = new byte[Nccl.UNIQUE_ID_BYTES];
  private static final long COMM = 0x7f00_0000_1000L;

  @Test
  void commInitRankRefusesAMissingOrMisSizedId() {
    refused("commInitRank: id must not be null", () -> NcclCommunicator.commInitRank(2, null, 0, 0));
    refused("commInitRank: id must be 128 bytes (from Nccl.uniqueId()) but is 127",
        () -> NcclCommunicator.commInitRank(2, new byte[127], 0, 0));
    refused("commInitRank: id must be 128 bytes (from Nccl.uniqueId()) but is 0",
        () -> NcclCommunicator.commInitRank(2, new byte[0], 0, 0));
  }

  @Test
  void commInitRankRefusesImpossibleRanksDevicesAndTimeouts() {
    refused("commInitRank: nranks must be >= 1 but is 0", () -> NcclCommunicator.commInitRank(0, ID, 0, 0));
    refused("commInitRank: rank must be in [0, 2) but is 2", () -> NcclCommunicator.commInitRank(2, ID, 2, 0));
    refused("commInitRank: rank must be in [0, 2) but is -1", () -> NcclCommunicator.commInitRank(2, ID, -1, 0));
    refused("commInitRank: device must be >= 0 but is -3", () -> NcclCommunicator.commInitRank(2, ID, 0, -3));
    refused("commInitRank: timeout must be positive but is PT0S",
        () -> NcclCommunicator.commInitRank(2, ID, 0, 0, Duration.ZERO));
  }

  @Test
  void operationsRefuseNegativeCounts() {
    refused("allReduce: count must be >= 0 but is -1",
        () -> Nccl.allReduce(0x1000, 0x2000, -1, DataType.BFLOAT16, 0, COMM));
    refused("send: count must be >= 0 but is -5",
        () -> Nccl.send(0x1000, -5, DataType.FLOAT32, 1, 0, COMM));
    refused("recv: count must be >= 0 but is " + Long.MIN_VALUE,
        () -> Nccl.recv(0x1000, Long.MIN_VALUE, DataType.FLOAT32, 1, 0, COMM));
  }

  @Test
  void operationsRefuseNullPointersTypesAndCommunicators() {
    refused("allReduce: sendPtr must not be 0",
        () -> Nccl.allReduce(0, 0x2000, 8, DataType.BFLOAT16, 0, COMM));
    refused("allReduce: recvPtr must not be 0",
        () -> Nccl.allReduce(0x1000, 0, 8, DataType.BFLOAT16, 0, COMM));
    refused("allReduce: dtype must not be null", () -> Nccl.allReduce(0x1000, 0x2000, 8, null, 0, COMM));
    refused("allReduce: comm must not be 0",
        () -> Nccl.allReduce(0x1000, 0x2000, 8, DataType.FLOAT32, 0, 0));
    refused("send: sendPtr must not be 0", () -> Nccl.send(0, 8, DataType.FLOAT32, 1, 0, COMM));
    refused("recv: recvPtr must not be 0", () -> Nccl.recv(0, 8, DataType.FLOAT32, 1, 0, COMM));
    refused("recv: comm must not be 0", () -> Nccl.recv(0x1000, 8, DataType.FLOAT32, 1, 0, 0));
    refused("commDestroy: comm must not be 0", () -> NcclCommunicator.commDestroy(0));
    refused("commAbort: comm must not be 0", () -> NcclCommunicator.commAbort(0));
    refused("groupEnd: comm must not be 0", () -> Nccl.groupEnd(COMM, 0));
  }

  @Test
  void dataTypesCarryTheirElementSizes() {
    assertEquals(2, DataType.BFLOAT16.bytes());
    assertEquals(4, DataType.FLOAT32.bytes());
    assertEquals("bf16", DataType.BFLOAT16.toString());
  }

  private static void refused(String message, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertEquals(message, e.getMessage());
  }
}
