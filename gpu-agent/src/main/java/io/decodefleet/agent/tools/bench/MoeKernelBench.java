package io.decodefleet.agent.tools.bench;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.tools.selfcheck.DeviceHarness;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.MoeExpertGemmParams;
import io.decodefleet.kernels.cuda.MoePermuteParams;
import io.decodefleet.kernels.cuda.MoeRouteParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The mixture-of-experts rows of {@code gpu-agent bench kernels} ({@code --only moe}), on the
 * layers of Mixtral-8x7B and Qwen3-30B-A3B at decode batches: the router kernel (softmax and top-k
 * over float32 logits), the permutation, and the grouped expert GEMMs (gate_up with SwiGLU, then
 * down) timed together. An expert GEMM row's bytes are the weights of the experts its batch's
 * routing reaches, the only ones the kernels read (the other experts' CTAs exit first); its floor
 * those bytes over the copy bandwidth. Routing is uniform over the experts, k distinct per token,
 * as a balanced router spreads tokens.
 */
final class MoeKernelBench {

  /** (experts, k, hidden, expert width): Mixtral-8x7B's and Qwen3-30B-A3B's sparse MLP. */
  static final int[][] SHAPES = {{8, 2, 4096, 14336}, {128, 8, 2048, 768}};
  /** Decode batches, and a prefill chunk's rows (tensor cores only). */
  static final int[] BATCHES = {1, 8, 32, 64, 256, 1024};

  private MoeKernelBench() {}

  static List<BenchResult> run(DeviceHarness h, double copyPerUs, java.util.function.Consumer<BenchResult> print) {
    List<BenchResult> results = new ArrayList<>();
    for (int[] s : SHAPES) {
      for (int batch : BATCHES) {
        for (BenchResult r : point(h, s[0], s[1], s[2], s[3], batch, copyPerUs)) {
          print.accept(r);
          results.add(r);
        }
        h.freeAll();
      }
    }
    return results;
  }

  /** k distinct experts per token, uniform. */
  static int[] uniformRouting(Random r, int tokens, int experts, int k) {
    int[] out = new int[tokens * k];
    for (int t = 0; t < tokens; t++) {
      for (int j = 0; j < k; j++) {
        int e;
        boolean taken;
        do {
          e = r.nextInt(experts);
          taken = false;
          for (int i = 0; i < j; i++) taken |= out[t * k + i] == e;
        } while (taken);
        out[t * k + j] = e;
      }
    }
    return out;
  }

  /** Experts that took at least one of {@code routing}'s tokens. */
  static int expertsRead(int[] routing, int experts) {
    boolean[] seen = new boolean[experts];
    int n = 0;
    for (int e : routing) {
      if (!seen[e]) {
        seen[e] = true;
        n++;
      }
    }
    return n;
  }

  private static List<BenchResult> point(DeviceHarness h, int experts, int k, int hidden, int inter, int batch,
      double copyPerUs) {
    Random r = new Random(7L * batch + experts);
    long expertBytes = 2L * 3 * hidden * inter;
    // Input sets rotate over distinct routings, so that consecutive calls read different experts
    // where the batch leaves some idle; the weights themselves are one copy of the layer.
    int sets = Math.min(8, BenchPool.inputSets(expertBytes * Math.min(experts, (long) batch * k), h.gpu().l2Bytes()));
    DeviceBuffer gateUp = BenchPool.randomBf16(h, (long) experts * 2 * inter * hidden, 11, 0.03f);
    DeviceBuffer down = BenchPool.randomBf16(h, (long) experts * hidden * inter, 12, 0.03f);
    DeviceBuffer x = BenchPool.randomBf16(h, (long) batch * hidden, 13, 1f);
    DeviceBuffer act = h.poisonedBf16((long) batch * k * inter);
    DeviceBuffer y = h.poisonedBf16((long) batch * k * hidden);
    MoePermuteParams[] permutes = new MoePermuteParams[sets];
    MoeExpertGemmParams[] gu = new MoeExpertGemmParams[sets];
    MoeExpertGemmParams[] dn = new MoeExpertGemmParams[sets];
    double readSum = 0;
    for (int s = 0; s < sets; s++) {
      int[] routing = uniformRouting(r, batch, experts, k);
      readSum += expertsRead(routing, experts);
      DeviceBuffer offsets = h.zeroedInts(experts + 1L);
      DeviceBuffer tokenOf = h.zeroedInts((long) batch * k);
      DeviceBuffer rowOf = h.zeroedInts((long) batch * k);
      DeviceBuffer active = h.zeroedInts(experts + 1L);
      permutes[s] = new MoePermuteParams(offsets.address(), tokenOf.address(), rowOf.address(), 0,
          h.ints(routing).address(), 0, 0, active.address(), batch, experts, k);
      h.launch(Kernel.MOE_PERMUTE, permutes[s].launch(), permutes[s]);
      // As one device's backend launches them (the CUDA-core kernels read the list of routed experts).
      gu[s] = MoeExpertGemmParams.gateUp(act.address(), x.address(), gateUp.address(), offsets.address(),
          tokenOf.address(), inter, hidden, hidden, experts).withActive(active.address());
      dn[s] = MoeExpertGemmParams.down(y.address(), act.address(), down.address(), offsets.address(), hidden, inter,
          experts).withActive(active.address());
    }
    h.stream().synchronize("MoE bench permutations");
    int launches = Math.max(BenchPool.MIN_LAUNCHES, sets);
    List<BenchResult> rows = new ArrayList<>();

    float[] logits = new float[batch * experts];
    for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
    DeviceBuffer logitsBuf = h.track(h.context().allocate(4L * logits.length));
    logitsBuf.upload(logits);
    DeviceBuffer chosen = h.zeroedInts((long) batch * k);
    DeviceBuffer weights = h.zeroedInts((long) batch * k);
    MoeRouteParams route = new MoeRouteParams(chosen.address(), weights.address(), logitsBuf.address(), 0, 0, batch,
        experts, k, experts, 1);
    double routeUs = BenchPool.graphMedianUs(h, launches, i -> h.launch(Kernel.MOE_ROUTE, route.launch(), route));
    double routeBytes = 4.0 * batch * experts + 8.0 * batch * k;
    rows.add(new BenchResult("moe_route", "warp_per_token", shape(experts, k, hidden, inter, batch, -1), routeUs,
        routeBytes, routeBytes / copyPerUs, 1, launches));

    double permuteUs = BenchPool.graphMedianUs(h, launches,
        i -> h.launch(Kernel.MOE_PERMUTE, permutes[i % sets].launch(), permutes[i % sets]));
    double permuteBytes = 12.0 * batch * k + 4.0 * (experts + 1);
    rows.add(new BenchResult("moe_permute", "one_cta", shape(experts, k, hidden, inter, batch, -1), permuteUs,
        permuteBytes, permuteBytes / copyPerUs, sets, launches));

    double read = readSum / sets;
    double bytes = read * expertBytes;
    for (boolean tensorCore : new boolean[] {false, true}) {
      // Each kernel where the backend runs it and, around the switch (MoeExpertGemmParams.tensorCores),
      // both side by side: tensor cores from half the switch's batch, CUDA cores up to twice it.
      if (tensorCore ? !MoeExpertGemmParams.tensorCores(2 * batch, k, experts)
          : MoeExpertGemmParams.tensorCores(batch / 2, k, experts)) {
        continue;
      }
      Kernel guKernel = tensorCore ? Kernel.MOE_EXPERTS_GATE_UP_TC : Kernel.MOE_EXPERTS_GATE_UP;
      Kernel dnKernel = tensorCore ? Kernel.MOE_EXPERTS_DOWN_TC : Kernel.MOE_EXPERTS_DOWN;
      double gemmUs = BenchPool.graphMedianUs(h, launches, i -> {
        h.launch(guKernel, gu[i % sets].launch(guKernel, batch, k), gu[i % sets]);
        h.launch(dnKernel, dn[i % sets].launch(dnKernel, batch, k), dn[i % sets]);
      });
      rows.add(new BenchResult("moe_experts", tensorCore ? "tensor_core" : "cuda_core", shape(experts, k, hidden, inter,
          batch, Math.round(read)), gemmUs, bytes, bytes / copyPerUs, sets, launches));
    }
    return rows;
  }

  private static Map<String, Long> shape(int experts, int k, int hidden, int inter, int batch, long read) {
    Map<String, Long> s = new LinkedHashMap<>();
    s.put("experts", (long) experts);
    s.put("k", (long) k);
    if (read >= 0) {
      s.put("hidden", (long) hidden);
      s.put("inter", (long) inter);
    }
    s.put("batch", (long) batch);
    if (read >= 0) s.put("experts_read", read);
    return s;
  }
}
