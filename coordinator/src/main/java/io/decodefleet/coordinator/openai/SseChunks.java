package io.decodefleet.coordinator.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decodefleet.coordinator.generation.GenerationEvent;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Turns one generation's events into Server-Sent Events frames, as OpenAI streams them: a
 * {@code data: <json>\n\n} frame per delta with text, the last choice chunk with its finish reason,
 * a usage chunk when asked, then {@code data: [DONE]\n\n}. A failure mid-stream (the fleet or its
 * coordinator lost the sequence) is an {@code error} frame in OpenAI's error shape, the body the
 * failure's status would have carried (a lost coordinator: type {@code service_unavailable}, as a
 * 503), then {@code [DONE]}.
 */
final class SseChunks {
  static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

  private final String id;
  private final OpenAiRequest request;
  private final long created;

  SseChunks(String id, OpenAiRequest request, long created) {
    this.id = id;
    this.request = request;
    this.created = created;
  }

  static ByteString data(ObjectNode json) {
    return ByteString.fromString("data: " + json + "\n\n");
  }

  /** The frames for one event (none for a delta without text, unless token ids are asked for). */
  List<ByteString> next(GenerationEvent e) {
    List<ByteString> out = new ArrayList<>(3);
    if (e instanceof GenerationEvent.Delta d) {
      if (!d.text().isEmpty() || request.returnTokenIds()) {
        out.add(data(OpenAiJson.chunk(id, request, created, d.text(), false, d.tokenIds(), null)));
      }
    } else if (e instanceof GenerationEvent.Done d) {
      out.add(data(OpenAiJson.chunk(id, request, created, request.chat() ? null : "", false, null, d.finishReason())));
      if (request.includeUsage()) out.add(data(OpenAiJson.usageChunk(id, request, created, d)));
      out.add(DONE);
    } else if (e instanceof GenerationEvent.Failed f) {
      out.add(data(OpenAiServer.failureBody(f)));
      out.add(DONE);
    }
    return out;
  }
}
