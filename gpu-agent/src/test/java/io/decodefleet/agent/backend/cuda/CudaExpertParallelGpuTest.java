package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.agent.backend.cpu.CpuBackend;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.engine.Backend;
import io.decodefleet.agent.engine.ExpertLoad;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.ModelLoad;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.engine.tp.Parallelism;
import io.decodefleet.agent.engine.tp.TensorParallelBackend;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.agent.tools.parity.LogitsComparison;
import io.decodefleet.agent.tools.parity.ParitySchedule;
import io.decodefleet.kernels.cuda.Fatbin;
import io.decodefleet.kernels.reference.Argmax;
import io.decodefleet.kernels.reference.MoeRouter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Expert parallelism over two GPUs (each rank half of tiny-moe's experts, an NCCL all-reduce of
 * every MoE layer's float32 partials, rank 0's routing sent to rank 1) against one GPU and against
 * the CPU backend's expert-parallel pair, on the eager path and in decode graphs, with plain top-k
 * and with a capacity that drops tokens. Skipped without two GPUs, the fatbin or NCCL.
 */
@Tag("gpu")
class CudaExpertParallelGpuTest {

  private static final ModelConfig MOE = ModelConfig.preset("tiny-moe");
  private static final MoeRouterPolicy[] ROUTERS = {MoeRouterPolicy.TOP_K, new MoeRouterPolicy(1.0)};
  private List<GpuInfo> gpus;

  @BeforeEach
  void needsTwoGpusAndNccl() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(d.gpus().size() >= 2, "needs 2 GPUs");
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
    gpus = d.gpus();
  }

  /**
   * On one GPU's own routing (given to both ranks of the pair), EP=2 runs every row of one GPU's
   * step: with two experts a token the partial sums add what one GPU's combine adds, so the
   * logits agree to the tolerance (the ranks' GEMMs may be tuned to other kernels), the greedy
   * tokens agree up to near ties, and rank 0 counts the same tokens taken and dropped per expert.
   * Then with the pair routing on its own (rank 0's router): the tokens still agree up to ties.
   */
  @Test
  void anExpertParallelPairMatchesOneGpuEagerAndInGraphsWithAndWithoutCapacity() {
    for (DecodePath path : new DecodePath[] {DecodePath.EAGER, DecodePath.GRAPH}) {
      for (MoeRouterPolicy router : ROUTERS) {
        CudaSettings settings = CudaSettings.defaults().withDecodePath(path).withMaxGraphBatch(8)
            .withGpuMemoryFraction(0.3);
        ModelLoad load = ModelLoad.dummy(MOE, 5).with(router);
        ParitySchedule schedule = new ParitySchedule(MOE.vocabSize(), 5, 4, 24, 16);
        try (CudaBackend single = new CudaBackend(gpus.get(0), settings);
            TensorParallelBackend pair = pair(settings)) {
          prepare(single, load, schedule);
          prepare(pair, load, schedule);
          String what = path.label() + " " + router;
          List<ExpertLoad> loads = new ArrayList<>();
          List<ExpertLoad> pairLoads = new ArrayList<>();
          Lockstep given = new Lockstep(what + ", routing given");
          schedule.run(b -> {
            float[] want = single.forward(b);
            loads.add(single.lastExpertLoad());
            MoeRouter.Routing[] routing = single.routing().last(b.numTokens());
            give(pair, routing);
            float[] got = pair.forward(b);
            give(pair, null);
            pairLoads.add(pair.lastExpertLoad());
            return given.compare(want, got, b.numSampled(), single.verifyTolerance());
          });
          given.check();
          assertEquals(loads, pairLoads, what + ": rank 0 counts one GPU's expert load step for step");
          if (router.capacityBounded()) {
            long dropped = loads.stream().mapToLong(l -> Arrays.stream(l.dropped()).sum()).sum();
            assertTrue(dropped > 0, what + ": a capacity of 1.0 drops tokens");
          }
        }
        try (CudaBackend single = new CudaBackend(gpus.get(0), settings);
            TensorParallelBackend pair = pair(settings)) {
          prepare(single, load, schedule);
          prepare(pair, load, schedule);
          Lockstep own = new Lockstep(path.label() + " " + router + ", each routing on its own");
          schedule.run(b -> own.compare(single.forward(b), pair.forward(b), b.numSampled(),
              single.verifyTolerance()));
          own.checkTokens();
        }
      }
    }
  }

  /**
   * Against the CPU backend's expert-parallel pair on the CPU's routing (given to both GPU ranks):
   * every row's logits within the CUDA backend's tolerance of the float32 CPU's, the same greedy
   * tokens up to near ties, on the eager path and in graphs.
   */
  @Test
  void anExpertParallelPairMatchesTheCpuBackendsExpertParallelPair() {
    for (DecodePath path : new DecodePath[] {DecodePath.EAGER, DecodePath.GRAPH}) {
      for (MoeRouterPolicy router : ROUTERS) {
        CudaSettings settings = CudaSettings.defaults().withDecodePath(path).withMaxGraphBatch(8)
            .withGpuMemoryFraction(0.3);
        ModelLoad load = ModelLoad.dummy(MOE, 7).with(router);
        ParitySchedule schedule = new ParitySchedule(MOE.vocabSize(), 7, 4, 24, 16);
        List<Supplier<Backend>> cpuRanks = List.of(() -> new CpuBackend(0), () -> new CpuBackend(0));
        try (CpuBackend cpu = new CpuBackend(0);
            TensorParallelBackend cpuPair = new TensorParallelBackend("cpu-ep", cpuRanks, Duration.ofSeconds(60),
                Parallelism.EXPERT);
            TensorParallelBackend pair = pair(settings)) {
          prepare(cpu, load, schedule);
          prepare(cpuPair, load, schedule);
          prepare(pair, load, schedule);
          Lockstep lockstep = new Lockstep(path.label() + " " + router + " against the CPU's ep=2");
          schedule.run(b -> {
            cpu.forward(b); // one CPU device: the routing of every row (the CPU's pair routes the same, bit for bit)
            give(pair, cpu.lastRouting());
            float[] want = cpuPair.forward(b);
            float[] got = pair.forward(b);
            return lockstep.compare(want, got, b.numSampled(), CudaBackend.TOLERANCE);
          });
          lockstep.check();
        }
      }
    }
  }

  private TensorParallelBackend pair(CudaSettings settings) {
    List<Supplier<Backend>> ranks = new ArrayList<>();
    for (GpuInfo g : gpus.subList(0, 2)) ranks.add(() -> new CudaBackend(g, settings));
    return new TensorParallelBackend("ep-test", ranks, Duration.ofSeconds(120), Parallelism.EXPERT);
  }

  private static void prepare(Backend b, ModelLoad load, ParitySchedule schedule) {
    b.loadModel(load);
    b.allocateKvCache(schedule.numBlocks(), schedule.blockSize());
  }

  /** Every rank takes {@code routing} for its next steps (null: its router again), on its own thread. */
  private static void give(TensorParallelBackend pair, MoeRouter.Routing[] routing) {
    pair.eachRank(b -> {
      ((CudaBackend) b).routing().give(routing);
      return null;
    });
  }

  /** Rows compared so far: the reference's greedy tokens are what the schedule feeds back. */
  private static final class Lockstep {
    private final String what;
    private int rows;
    private int nearTies;
    private int mismatches;
    private double worst;
    private double tolerance;

    Lockstep(String what) {
      this.what = what;
    }

    int[] compare(float[] want, float[] got, int sampled, double tolerance) {
      this.tolerance = tolerance;
      int vocab = MOE.vocabSize();
      int[] tokens = new int[sampled];
      for (int i = 0; i < sampled; i++) {
        int a = Argmax.argmax(want, i * vocab, vocab);
        int b = Argmax.argmax(got, i * vocab, vocab);
        tokens[i] = a;
        rows++;
        if (a != b) {
          if (LogitsComparison.nearTie(want, i * vocab, vocab, a, b, tolerance)) {
            nearTies++;
          } else {
            mismatches++;
          }
        }
        worst = Math.max(worst, LogitsComparison.relL2(got, want, i * vocab, vocab));
      }
      return tokens;
    }

    void checkTokens() {
      System.out.printf("%s: %d rows, %d near ties, %d differ, max rel error %.2e%n", what, rows, nearTies,
          mismatches, worst);
      assertTrue(rows > 0, what);
      assertEquals(0, mismatches, what + ": greedy tokens differ beyond near ties");
    }

    void check() {
      checkTokens();
      assertTrue(worst <= tolerance, what + ": logits rel error " + worst + " over " + tolerance);
    }
  }
}
