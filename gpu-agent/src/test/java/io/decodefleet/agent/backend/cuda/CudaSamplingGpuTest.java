package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import io.decodefleet.kernels.cuda.Fatbin;
import io.decodefleet.kernels.reference.TokenSampling;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Device sampling (sample.cu through {@link CudaBackend#forwardSampled}) against the CPU backend on
 * `tiny`: the same seeds draw the same tokens. The CPU backend runs the {@link ParitySchedule},
 * drawing every token with {@link TokenSampling} (temperature 0.8, top-k 50, top-p 0.95; the first
 * sequence greedy, so each launch mixes greedy and sampled rows); the CUDA backend replays exactly
 * those batches (teacher forcing). Each device token must be what TokenSampling draws from the
 * device's own logits, up to a float near tie of the two best scores, and what the CPU backend
 * drew, up to a near tie at the backends' logit tolerance. Skipped without a CUDA device or fatbin.
 */
@Tag("gpu")
class CudaSamplingGpuTest {

  private static final ModelConfig TINY = ModelConfig.preset("tiny");
  private static final int V = TINY.vocabSize();
  private static final long SEED = 7;

  private GpuInfo gpu;

  @BeforeEach
  void needsAGpu() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    gpu = d.gpus().get(0);
  }

  private static SamplingParams paramsOf(int sequence) {
    return sequence == 0 ? SamplingParams.GREEDY
        : new SamplingParams(0.8f, 0.95f, 50, 1000L * sequence + 3, new int[0], 0);
  }

  /** Each sample row's params, by the sequence its table belongs to. */
  private static SamplingParams[] params(ParitySchedule schedule, ForwardBatch batch) {
    SamplingParams[] out = new SamplingParams[batch.numSampled()];
    for (int i = 0; i < out.length; i++) {
      out[i] = paramsOf(schedule.sequenceOf(batch.blockTables()[batch.sampleRows()[i]]));
    }
    return out;
  }

  /** The position each sampled token takes: one past its sample row's. */
  private static int[] positions(ForwardBatch batch) {
    int[] out = new int[batch.numSampled()];
    for (int i = 0; i < out.length; i++) out[i] = batch.positions()[batch.sampleRows()[i]] + 1;
    return out;
  }

  private static TokenSampling.Draw draw(float[] logits, int row, SamplingParams p, int position) {
    return TokenSampling.draw(logits, row * V, V, p.temperature(), p.topP(), p.topK(), p.seed(), position);
  }

  /** Eagerly, and with the sampled decode steps replaying the decode graphs ({@code DECODEFLEET_SAMPLED_GRAPHS}). */
  @org.junit.jupiter.params.ParameterizedTest(name = "sampled graphs {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void theSameSeedsDrawTheSameTokensOnTheCpuAndTheCudaBackend(boolean graphs) {
    ParitySchedule schedule = new ParitySchedule(V, SEED, 4, 16, 16);
    List<float[]> cpuLogits = new ArrayList<>();
    List<int[]> cpuTokens = new ArrayList<>();
    List<ForwardBatch> batches;
    try (CpuBackend cpu = new CpuBackend(0)) {
      cpu.loadModel(TINY, SEED);
      cpu.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      batches = schedule.run(batch -> {
        float[] logits = cpu.forward(batch);
        SamplingParams[] p = params(schedule, batch);
        int[] pos = positions(batch);
        int[] tokens = new int[batch.numSampled()];
        for (int i = 0; i < tokens.length; i++) tokens[i] = draw(logits, i, p[i], pos[i]).token();
        cpuLogits.add(logits);
        cpuTokens.add(tokens);
        return tokens;
      });
    }
    CudaSettings settings = CudaSettings.defaults().withMaxGraphBatch(8).withSampledGraphs(graphs);
    int replays = 0;
    int rows = 0;
    int same = 0;
    int nearTies = 0;
    int floatTies = 0;
    try (CudaBackend cuda = new CudaBackend(gpu, settings)) {
      cuda.loadModel(TINY, SEED);
      cuda.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
      for (int step = 0; step < batches.size(); step++) {
        ForwardBatch batch = batches.get(step);
        SamplingParams[] p = params(schedule, batch);
        int[] pos = positions(batch);
        int[] device = cuda.forwardSampled(batch, p, pos);
        String ran = cuda.lastStepTiming().path();
        if (!graphs) assertEquals(settings.decodePath().eager().label(), ran, "a sampled step runs eagerly");
        if (ran.equals(settings.decodePath().label())) replays++;
        assertArrayEquals(device, cuda.forwardSampled(batch, p, pos), "step " + step + " drawn again");
        float[] logits = cuda.forward(batch);
        for (int i = 0; i < device.length; i++, rows++) {
          String where = "step " + step + " sample row " + i + " (" + p[i] + ", position " + pos[i] + ")";
          TokenSampling.Draw host = draw(logits, i, p[i], pos[i]);
          if (device[i] != host.token()) {
            assertTrue(host.best() - host.runnerUp() <= 1e-4 * Math.max(1, Math.abs(host.best())),
                where + ": device drew " + device[i] + ", TokenSampling on the device's logits " + host.token());
            floatTies++;
          }
          int want = cpuTokens.get(step)[i];
          if (device[i] == want) {
            same++;
          } else {
            assertTrue(nearTie(cpuLogits.get(step), i, p[i], pos[i], device[i]),
                where + ": device drew " + device[i] + ", the CPU backend " + want);
            nearTies++;
          }
        }
      }
    }
    System.out.printf("sampled parity (graphs %s): %d rows, %d same, %d near ties, %d float ties with the device's"
        + " logits, %d graph replays%n", graphs, rows, same, nearTies, floatTies, replays);
    if (graphs) assertTrue(replays > 0, "the sampled decode steps replayed the decode graphs");
    assertTrue(same >= rows * 3 / 4, "near ties should be the exception: " + nearTies + " of " + rows);
  }

  /**
   * Whether the device's token falls short of the CPU backend's draw, on the CPU's logits, by less
   * than the backends' logit tolerance (in units of z = l / T for a sampled row).
   */
  private static boolean nearTie(float[] cpu, int row, SamplingParams p, int position, int token) {
    double maxAbs = 0;
    for (int v = 0; v < V; v++) maxAbs = Math.max(maxAbs, Math.abs(cpu[row * V + v]));
    double margin = CudaBackend.TOLERANCE * maxAbs / (p.greedy() ? 1 : p.temperature());
    return TokenSampling.shortfall(cpu, row * V, V, p.temperature(), p.topP(), p.topK(), p.seed(), position, token)
        <= margin;
  }
}
