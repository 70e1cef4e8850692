package io.decodefleet.coordinator.metrics;

import java.util.Objects;

/**
 * The OpenAI-compatible server a client-mode sweep measured, as report.json's "client" names it.
 *
 * @param url the API's base URL, e.g. {@code http://127.0.0.1:8000/v1}
 * @param servedModel the model name the requests gave
 */
public record EndpointDescription(String url, String servedModel) {
  public EndpointDescription {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(servedModel, "servedModel");
  }
}
