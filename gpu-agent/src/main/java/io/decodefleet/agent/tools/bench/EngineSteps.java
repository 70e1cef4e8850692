package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.KvBlockManager;
import io.decodefleet.agent.engine.ModelRunner;
import io.decodefleet.agent.engine.Scheduler;
import io.decodefleet.agent.engine.SchedulerConfig;
import io.decodefleet.agent.engine.SchedulerOutput;
import io.decodefleet.agent.engine.Sequence;
import java.util.Random;

/**
 * Whole engine steps as an agent's engine thread runs them — schedule, execute, update: the {@link
 * Scheduler}, the {@link ModelRunner} building the batch, the backend's forward, the sampled tokens
 * applied — timed on the wall clock. What the coordinator sees of a step, less the step report's trip.
 *
 * <ul>
 *   <li>Decode: {@code batch} sequences whose KV already covers {@code context - 1} positions (taken
 *       in as a KV hand-off would arrive, so nothing is prefilled first; the pages hold whatever the
 *       pool holds, which the CPU's time does not depend on), pages allocated as the engine allocates
 *       them; each step decodes one token of every sequence, the context growing by one per step.
 *   <li>Prefill: one fresh prompt of {@code tokens} in one step (the token budget is the prompt).
 * </ul>
 */
final class EngineSteps {
  private EngineSteps() {}

  /** Median wall time of {@code reps} decode steps (after {@code warmup}), µs. */
  static double decode(Backend b, int vocab, int numBlocks, int blockSize, int batch, int context, int warmup,
      int reps, long seed) {
    int steps = warmup + reps;
    Scheduler s = new Scheduler(new SchedulerConfig(batch, batch, context + steps + 2),
        new KvBlockManager(numBlocks, blockSize));
    ModelRunner runner = new ModelRunner(b, blockSize, vocab);
    Random r = new Random(seed + 31L * batch + context);
    for (int i = 0; i < batch; i++) {
      int[] prompt = new int[context - 1];
      for (int t = 0; t < prompt.length; t++) prompt[t] = r.nextInt(vocab);
      Sequence seq = Sequence.continued(i, prompt, new int[] {r.nextInt(vocab)}, steps + 2, context - 1);
      if (s.receive(seq) == null) throw new IllegalStateException("the bench's KV pool is too small");
      s.activate(i);
    }
    return timed(s, runner, warmup, reps);
  }

  /** Median wall time of a step that prefills one fresh prompt of {@code tokens}, µs. */
  static double prefill(Backend b, int vocab, int numBlocks, int blockSize, int tokens, int warmup, int reps,
      long seed) {
    Scheduler s = new Scheduler(new SchedulerConfig(1, tokens, tokens + 1), new KvBlockManager(numBlocks, blockSize));
    ModelRunner runner = new ModelRunner(b, blockSize, vocab);
    Random r = new Random(seed - tokens);
    double[] wall = new double[reps];
    for (int i = 0; i < warmup + reps; i++) {
      int[] prompt = new int[tokens];
      for (int t = 0; t < tokens; t++) prompt[t] = r.nextInt(vocab);
      s.add(new Sequence(i, prompt, 1));
      long t0 = System.nanoTime();
      step(s, runner);
      if (i >= warmup) wall[i - warmup] = (System.nanoTime() - t0) / 1e3;
    }
    return StepBench.median(wall);
  }

  private static double timed(Scheduler s, ModelRunner runner, int warmup, int reps) {
    double[] wall = new double[reps];
    for (int i = 0; i < warmup + reps; i++) {
      long t0 = System.nanoTime();
      step(s, runner);
      if (i >= warmup) wall[i - warmup] = (System.nanoTime() - t0) / 1e3;
    }
    return StepBench.median(wall);
  }

  /** One engine step: schedule, execute, update. */
  private static void step(Scheduler s, ModelRunner runner) {
    SchedulerOutput out = s.schedule();
    ModelRunner.StepResult result = runner.execute(out);
    s.update(out, result.sampled());
  }
}
