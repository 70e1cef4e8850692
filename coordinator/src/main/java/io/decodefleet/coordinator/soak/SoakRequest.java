package io.decodefleet.coordinator.soak;

/**
 * One request of the soak: which of the workload's shapes it sends, and over which API.
 *
 * @param id the soak's own number for it, from 0 in the order sent
 * @param shape the prompt and output length it asks for
 * @param protocol gRPC {@code Generate} or HTTP {@code /v1/completions}
 */
record SoakRequest(long id, RequestShape shape, Protocol protocol) {

  enum Protocol {
    GRPC("grpc"),
    HTTP("http");

    final String label;

    Protocol(String label) {
      this.label = label;
    }
  }

  /**
   * A prompt and how many tokens to generate: greedy, EOS ignored, so every run of it yields the same
   * {@code maxTokens} tokens.
   *
   * @param index its place in the workload's pool of shapes
   * @param prompt (prompt tokens) token ids
   */
  record RequestShape(int index, int[] prompt, int maxTokens) {}
}
