package io.decodefleet.coordinator.client;

import io.decodefleet.coordinator.metrics.MetricsRecorder;
import io.decodefleet.coordinator.run.RunOutcome;
import io.decodefleet.coordinator.workload.ReleaseSchedule;
import io.decodefleet.coordinator.workload.RequestSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One sweep point against an OpenAI endpoint: the workload's requests released as the in-process
 * benchmark releases them ({@link ReleaseSchedule}: at their arrival offsets, at most {@code
 * maxConcurrency} outstanding), each streamed by {@link OpenAiEndpoint}, and timed on this client's
 * clock by the same {@link MetricsRecorder} that times the in-process benchmark: release just before
 * the request is sent, each chunk's tokens when its event arrived.
 *
 * <p>The thread that calls {@link #run} releases the requests and waits; the HTTP client's threads
 * record what arrives. The recorder is not thread-safe, so every call into it holds this run's lock.
 */
public final class EndpointRun {
  /** The "agent" every token comes from, in the reports' agent columns: the endpoint as a whole. */
  public static final String AGENT_ID = "endpoint";

  private final OpenAiEndpoint endpoint;
  private final ReleaseSchedule schedule;
  private final MetricsRecorder recorder = new MetricsRecorder();
  private final Map<Long, int[]> outputTokens = new HashMap<>();
  private final Object lock = new Object();
  private int outstanding;

  private EndpointRun(OpenAiEndpoint endpoint, List<RequestSpec> requests, int maxConcurrency) {
    this.endpoint = endpoint;
    this.schedule = new ReleaseSchedule(requests, maxConcurrency);
  }

  /**
   * Runs {@code requests} against {@code endpoint} and waits until every one has finished or failed.
   *
   * @param requests in release order, with their arrival offsets
   * @param maxConcurrency most requests outstanding at once; 0 = unlimited
   * @return the summary, every request's record and, for completed requests whose server returned
   *     token ids, the generated ids; no agents, engine totals or verification (the server's own)
   */
  public static RunOutcome run(OpenAiEndpoint endpoint, List<RequestSpec> requests, int maxConcurrency)
      throws InterruptedException {
    return new EndpointRun(endpoint, requests, maxConcurrency).run();
  }

  private RunOutcome run() throws InterruptedException {
    long start;
    long end;
    synchronized (lock) {
      start = System.nanoTime();
      while (!schedule.allReleased()) {
        for (RequestSpec r : schedule.release(System.nanoTime() - start, outstanding)) {
          recorder.requestReleased(r.requestId(), r.promptTokens().length, r.maxTokens(), System.nanoTime());
          outstanding++;
          endpoint.stream(r).thenAccept(stream -> ended(r.requestId(), stream));
        }
        if (schedule.allReleased()) break;
        long wait = schedule.nanosUntilNextArrival(System.nanoTime() - start);
        if (wait < 0) {
          lock.wait(); // every request has arrived: only one that ends frees a slot
        } else if (wait > 0) {
          TimeUnit.NANOSECONDS.timedWait(lock, wait);
        }
      }
      while (outstanding > 0) lock.wait();
      end = System.nanoTime();
    }
    return new RunOutcome(null, recorder.summarize(start, Math.max(end, start + 1)), recorder.requests(start),
        Map.copyOf(outputTokens), List.of(), null, null);
  }

  private void ended(long requestId, CompletionStream stream) {
    synchronized (lock) {
      try {
        stream.recordInto(recorder, requestId, AGENT_ID);
        int[] ids = stream.tokenIds();
        if (stream.completed() && ids != null && ids.length > 0) outputTokens.put(requestId, ids);
      } finally {
        outstanding--;
        lock.notifyAll();
      }
    }
  }
}
