package io.decodefleet.coordinator.generation;

/**
 * A request field that cannot be served as given: the API answers 400 / INVALID_ARGUMENT with
 * {@code field} as the parameter and the message naming it.
 */
public final class InvalidField extends RuntimeException {
  private final String field;

  public InvalidField(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
  }

  /** The request field, as the client spelled it ("temperature", "messages[2].content"). */
  public String field() {
    return field;
  }
}
