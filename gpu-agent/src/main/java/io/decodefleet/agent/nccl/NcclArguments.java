package io.decodefleet.agent.nccl;

import io.decodefleet.agent.nccl.Nccl.DataType;
import java.time.Duration;

/**
 * The checks {@link Nccl}'s wrappers make before any native call: each refuses an argument that
 * can never be valid with an {@link IllegalArgumentException} naming the wrapper and the parameter.
 */
final class NcclArguments {

  private NcclArguments() {}

  static void id(byte[] id) {
    if (id == null) {
      throw new IllegalArgumentException("commInitRank: id must not be null");
    }
    if (id.length != Nccl.UNIQUE_ID_BYTES) {
      throw new IllegalArgumentException("commInitRank: id must be " + Nccl.UNIQUE_ID_BYTES
          + " bytes (from Nccl.uniqueId()) but is " + id.length);
    }
  }

  static void ranks(int nranks, int rank, int device) {
    if (nranks < 1) {
      throw new IllegalArgumentException("commInitRank: nranks must be >= 1 but is " + nranks);
    }
    if (rank < 0 || rank >= nranks) {
      throw new IllegalArgumentException(
          "commInitRank: rank must be in [0, " + nranks + ") but is " + rank);
    }
    if (device < 0) {
      throw new IllegalArgumentException("commInitRank: device must be >= 0 but is " + device);
    }
  }

  static void comm(String function, long comm) {
    if (comm == 0) {
      throw new IllegalArgumentException(function + ": comm must not be 0");
    }
  }

  static void pointer(String function, String name, long ptr) {
    if (ptr == 0) {
      throw new IllegalArgumentException(function + ": " + name + " must not be 0");
    }
  }

  static void count(String function, long count, DataType dtype) {
    if (count < 0) {
      throw new IllegalArgumentException(function + ": count must be >= 0 but is " + count);
    }
    if (dtype == null) {
      throw new IllegalArgumentException(function + ": dtype must not be null");
    }
  }

  static void peer(String function, int peer, int rank, int nranks) {
    if (peer < 0 || peer >= nranks || peer == rank) {
      throw new IllegalArgumentException(function + ": peer must be another rank in [0, " + nranks
          + ") than " + rank + " but is " + peer);
    }
  }

  static void timeout(String function, Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(function + ": timeout must be positive but is " + timeout);
    }
  }
}
