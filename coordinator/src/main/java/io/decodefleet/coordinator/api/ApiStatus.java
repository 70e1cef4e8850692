package io.decodefleet.coordinator.api;

import io.decodefleet.coordinator.fleet.SequenceEvent.FailureKind;
import io.decodefleet.coordinator.text.OneLine;
import io.grpc.Status;
import org.apache.pekko.grpc.GrpcServiceException;

/** How the coordinator's failures map onto gRPC status codes. */
final class ApiStatus {
  private ApiStatus() {}

  static Status of(FailureKind kind) {
    return switch (kind) {
      case INVALID -> Status.INVALID_ARGUMENT;
      case CAPACITY, BUSY -> Status.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Status.UNAVAILABLE;
      case AGENT -> Status.INTERNAL;
    };
  }

  /** INVALID_ARGUMENT described as {@code field: problem}, on one line whatever the problem quotes. */
  static GrpcServiceException invalid(String field, String problem) {
    return new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription(OneLine.of(field + ": " + problem)));
  }

  /** The call must go to another node of the cluster (FAILED_PRECONDITION). */
  static GrpcServiceException elsewhere(String why) {
    return new GrpcServiceException(Status.FAILED_PRECONDITION.withDescription(why));
  }

  static GrpcServiceException unavailable(String why) {
    return new GrpcServiceException(Status.UNAVAILABLE.withDescription(why));
  }
}
