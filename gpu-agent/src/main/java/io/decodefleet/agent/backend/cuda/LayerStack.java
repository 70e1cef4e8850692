package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.agent.engine.FamilyTimeline;
import io.decodefleet.agent.engine.KernelFamily;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeConfig;
import io.decodefleet.kernels.cuda.ArgmaxParams;
import io.decodefleet.kernels.cuda.EmbeddingParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KernelParams;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.MoeRouteParams;
import io.decodefleet.kernels.cuda.RmsNormParams;
import io.decodefleet.kernels.cuda.RopeKvParams;
import io.decodefleet.kernels.cuda.SampleParams;
import io.decodefleet.kernels.cuda.SwiGluParams;
import java.util.ArrayList;
import java.util.List;

/**
 * Enqueues the Llama decoder on one stream, in the CPU backend's order (its {@code run}): embed,
 * input norm, then per layer qkv projection, RoPE + KV append, attention, o projection, residual
 * add + post-attention norm, gate_up projection, SwiGLU, down projection, residual add + the next
 * layer's input norm (the final norm after the last layer); then the LM head on the sample rows.
 * A model with q/k norms (Qwen3) has them applied inside the RoPE + KV-append launch, each head
 * normed before its rotation, where the CPU backend norms between the projection and RoPE.
 *
 * <p>Nothing here synchronises or allocates, so the same calls either run eagerly or are captured
 * into a graph. Attention per layer ({@link AttentionBlock}), over the groups of {@link StepPlan} in
 * launch order: rows {@code [0, freshRows)} through the causal prefill kernel on contiguous copies of their q, k and v;
 * the continued spans {@code [freshRows, firstPaged)} through the paged prefill kernel, and rows
 * {@code [firstPaged, rows)} through the decode (or plain paged) kernel, both over the cache the
 * step has just appended to.
 *
 * <p>At one row over FP8 weights, where the dispatch chose the FP8 GEMV, the norm before qkv and gate_up and
 * SwiGLU after gate_up run inside the projection's launch (the same numbers; {@link Fp8Gemv#project});
 * the residual stream then alternates between ws.residual and ws.residualAlt.
 *
 * <p>FP8: projections with FP8 weights run {@link Projections#projectFp8}, or under fp8-dynamic {@link
 * Fp8Activations#project} (their input rows quantized per token, FP8 x FP8 on cuBLASLt; at one row the GEMV that
 * quantizes its row itself, with the norm in front and SwiGLU behind as above); over an FP8 KV pool the
 * append, paged prefill, decode and paged kernels are their FP8 variants, and the prefill kernel
 * reads the fresh tokens' k and v as the append kernel left them in the qkv buffer: widened from
 * their codes.
 *
 * <p>While a profiled step runs ({@link #profile}), each kernel family's launches are preceded by
 * a mark on its timeline (CUDA events on the stream: {@link FamilyEvents}).
 */
final class LayerStack {

  /**
   * Completes a tensor-parallel rank's partial sums in place on the stack's stream: (count)
   * float32 at a device address, summed over the group (an NCCL all-reduce, captured with the rest
   * of a decode graph). The o and down projections of a rank write float32, the sum is rounded to
   * bf16 once as the next norm reads it: what a single device's projection would have written, up
   * to the order of the float32 additions.
   */
  interface PartialSums {
    void allReduce(long address, long count);
  }

  private final ModelConfig c;
  private final KernelModule kernels;
  private final CudaStream stream;
  private final DeviceWeights weights;
  private final Workspace ws;
  private final Projections projections;
  private final PartialSums partialSums; // null on a single device
  private final MoeLayerKernels moe; // null for a dense MLP
  private final boolean sharded; // partialSums != null: o and down write float32
  private final int qkvWidth;
  private final AttentionBlock attention; // RoPE + KV append and attention, over the cache in use
  private Fp8Activations fp8Activations; // fp8-dynamic: every FP8 projection quantizes its input rows; else null
  private FamilyTimeline marks; // a profiled step's; null otherwise

  /**
   * @param partialSums the group's all-reduce when {@code config} is a tensor-parallel rank's; else null
   * @param moe a mixture of experts' MLP kernels; null for a dense model
   */
  LayerStack(ModelConfig config, KernelModule kernels, CudaStream stream, DeviceWeights weights, Workspace ws,
      Projections projections, PartialSums partialSums, MoeLayerKernels moe) {
    this.partialSums = partialSums;
    this.moe = moe;
    this.sharded = partialSums != null;
    this.c = config;
    this.kernels = kernels;
    this.stream = stream;
    this.weights = weights;
    this.ws = ws;
    this.projections = projections;
    this.qkvWidth = config.qSize() + 2 * config.kvSize();
    this.attention = new AttentionBlock(config, kernels, stream, weights, ws);
  }

  /** The cache and RoPE table the next launches use (the live pool, or a scratch one). */
  void use(KvPool pool, long cosSinTable, int positions) {
    attention.use(pool, cosSinTable, positions);
  }

  KvPool pool() {
    return attention.pool();
  }

  /**
   * From now on every FP8 projection runs FP8 x FP8 on its input rows quantized per token (fp8-dynamic), on the
   * GEMMs {@code activations} chose by timing them on {@code sites} ({@link Fp8Activations#tune}, which fills
   * their inputs with noise: the caller poisons the workspace afterwards).
   *
   * @return the tuning's line, for the load report
   */
  String useFp8Activations(Fp8Activations activations, List<GemmTuning.Site> sites) {
    this.fp8Activations = activations;
    return activations.tune(sites);
  }

  /** Whether the FP8 projections quantize their input rows (fp8-dynamic). */
  boolean fp8Activations() {
    return fp8Activations != null;
  }

  /** The launches from now on mark their kernel families on {@code timeline}; null: no marks. */
  void profile(FamilyTimeline timeline) {
    this.marks = timeline;
  }

  private void mark(KernelFamily family) {
    if (marks != null) marks.begin(family);
  }

  /**
   * A residual add and RMSNorm not yet launched: {@code residual += delta} (float32 delta where {@code
   * deltaFloat}), then the norm with {@code weight} into ws.normed. The projection that reads the norm
   * may take it in front ({@link #projectNormed}); otherwise it is launched first.
   */
  private record PendingNorm(long delta, long weight, boolean deltaFloat) {}

  /** Where the residual stream is now: ws.residual, or at one row ws.residualAlt after a norm in front. */
  private long residualAt;

  /** Everything up to the final norm: leaves (rows, hidden) final-normed states in ws.normed. */
  void body(StepLaunch s) {
    int n = s.rows();
    int h = c.hiddenSize();
    float eps = c.rmsNormEps();
    WeightLayout w = weights.layout();
    residualAt = ws.at(ws.residual);
    mark(KernelFamily.EMBEDDING);
    launch(Kernel.EMBEDDING, new EmbeddingParams(residualAt, weights.address(w.embedding()),
        s.at(s.layout().tokens()), n, h, c.vocabSize()));
    launchNorm(new RmsNormParams(ws.at(ws.normed), 0L, residualAt,
        weights.address(w.layer(0).inputNorm()), n, h, eps));
    PendingNorm pending = null;
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      WeightLayout.LayerWeights lw = w.layer(l);
      projectNormed(KernelFamily.QKV_PROJ, pending, ws.at(ws.qkv), qkvWidth, lw.qkv(), lw.qkvScales(), n, qkvWidth,
          h, 0L);
      mark(KernelFamily.ROPE_KV);
      attention.ropeAndAppend(s, l, lw);
      mark(KernelFamily.ATTENTION);
      attention.attend(s, l);
      mark(KernelFamily.O_PROJ);
      project(ws.at(ws.delta), h, ws.at(ws.attn), lw.o(), lw.oScales(), n, h, c.qSize(), sharded);
      completePartialSums(n);
      PendingNorm postAttention = new PendingNorm(ws.at(ws.delta), weights.address(lw.postAttentionNorm()), sharded);
      if (lw.moe()) {
        flushNorm(postAttention, n);
        // The sparse MLP: router, dispatch and the experts' gate_up count as gate_up_proj, their
        // down and the combine as down_proj (as on the CPU backend).
        long live = s.at(s.layout().liveRows());
        mark(KernelFamily.GATE_UP_PROJ);
        moe.dispatch(projections, weights, lw, l, n, live, ws.at(ws.normed));
        mark(KernelFamily.DOWN_PROJ);
        moe.combine(weights, lw, l, n, live, ws.at(ws.delta));
      } else {
        denseMlp(lw, n, h, postAttention);
      }
      // An expert-parallel rank's combine leaves float32 sums over the group, as a tensor-parallel rank's down does.
      boolean mlpFloat = sharded || lw.moe() && moe.outputsFloat32();
      long nextNorm = l + 1 < c.numHiddenLayers() ? w.layer(l + 1).inputNorm() : w.finalNorm();
      pending = new PendingNorm(ws.at(ws.delta), weights.address(nextNorm), mlpFloat);
    }
    flushNorm(pending, n); // the final norm, for the head
  }

  /**
   * The dense MLP: gate_up projection (the pending norm in front, SwiGLU behind, where the one-row FP8 GEMV
   * runs it), SwiGLU, down projection into ws.delta.
   */
  private void denseMlp(WeightLayout.LayerWeights lw, int n, int h, PendingNorm norm) {
    int inter = c.intermediateSize();
    boolean activated = projectNormed(KernelFamily.GATE_UP_PROJ, norm, ws.at(ws.gateUp), 2 * inter, lw.gateUp(),
        lw.gateUpScales(), n, 2 * inter, h, ws.at(ws.act));
    // fp8-dynamic: SwiGLU quantizes its rows for down, which then needs no quantizing launch.
    boolean codes = !activated && fp8Codes(lw.downScales(), n, h, inter, lw.down());
    if (!activated) {
      SwiGluParams act = new SwiGluParams(ws.at(ws.act), ws.at(ws.gateUp), ws.at(ws.gateUp, 2L * inter), n, inter,
          2 * inter, inter);
      if (codes) act = act.withCodes(fp8Activations.codes(), fp8Activations.scales());
      mark(KernelFamily.ACTIVATION);
      launch(Kernel.SWIGLU, act.launch(), act);
    }
    mark(KernelFamily.DOWN_PROJ);
    if (codes) {
      fp8Activations.projectCodes(ws.at(ws.delta), h, weights.address(lw.down()), weights.address(lw.downScales()),
          n, h, inter, sharded);
    } else {
      project(ws.at(ws.delta), h, ws.at(ws.act), lw.down(), lw.downScales(), n, h, inter, sharded);
    }
    completePartialSums(n);
  }

  /**
   * The projection of ws.normed after {@code norm} (null: ws.normed is ready), timed as {@code family} in a
   * profiled step (the norm, where launched, as its own). At one row where a GEMV runs the projection (FP8
   * weights: the dispatch chose it, {@link Projections#gemvFp8Chosen}; bf16: {@link Projections#gemvBf16Chosen}),
   * the GEMV makes the norm's row itself and the residual stream moves to the other of its two one-row places;
   * given {@code act} (a gate_up projection's activation, (1, n / 2) bf16) it also makes SwiGLU behind, into
   * {@code act}. Otherwise the norm is launched, then the projection.
   *
   * @return whether SwiGLU was made (act written)
   */
  private boolean projectNormed(KernelFamily family, PendingNorm norm, long out, int stride, long w, long scales,
      int m, int n, int k, long act) {
    Fp8Gemv gemv = projections.gemv();
    long x = norm == null || norm.deltaFloat() || !gemv.norm() ? ws.at(ws.normed) : norm.delta();
    GemmChoice.Kernel gemvKernel = null;
    if (m == 1 && scales >= 0 && fp8Activations != null) {
      boolean fits = fp8Activations.gemvChosen(m, n, k, x, weights.address(w));
      gemvKernel = fits ? GemmChoice.Kernel.GEMV_FP8X8_MMA : null; // fp8-dynamic's one row: codes by codes
    } else if (m == 1 && scales >= 0) {
      gemvKernel = projections.gemvFp8Chosen(n, k, stride, x, weights.address(w));
    } else if (m == 1 && scales < 0 && projections.gemvBf16Chosen(n, k, stride, false, x, weights.address(w))) {
      gemvKernel = GemmChoice.Kernel.GEMV_BF16_MMA;
    }
    if (gemvKernel != null) {
      Fp8Gemv.Norm inside = null;
      if (x != ws.at(ws.normed)) {
        long other = residualAt == ws.at(ws.residual) ? ws.at(ws.residualAlt) : ws.at(ws.residual);
        inside = new Fp8Gemv.Norm(residualAt, other, norm.weight(), c.rmsNormEps());
        residualAt = other;
      } else {
        flushNorm(norm, m);
      }
      boolean swiglu = act != 0 && gemv.swigluBehind(gemvKernel, n, k);
      mark(family);
      gemv.project(swiglu ? act : out, swiglu ? n / 2 : stride, x, inside, swiglu, weights.address(w),
          scales >= 0 ? weights.address(scales) : 0L, n, k, gemvKernel);
      return swiglu;
    }
    // fp8-dynamic: the norm quantizes its rows for the projection, which then needs no quantizing launch.
    boolean codes = norm != null && fp8Codes(scales, m, n, k, w);
    flushNorm(norm, m, codes);
    mark(family);
    if (codes) {
      fp8Activations.projectCodes(out, stride, weights.address(w), weights.address(scales), m, n, k, false);
    } else {
      project(out, stride, ws.at(ws.normed), w, scales, m, n, k, false);
    }
    return false;
  }

  /**
   * Whether the kernel in front of an FP8 projection (row scales at {@code scales} >= 0) of m rows of depth k
   * to n over the weight at offset w quantizes its rows for it (fp8-dynamic, {@link Fp8Activations#takesCodes}).
   */
  private boolean fp8Codes(long scales, int m, int n, int k, long w) {
    return scales >= 0 && fp8Activations != null && fp8Activations.takesCodes(m, n, k, weights.address(w));
  }

  /** Launches {@code norm} (residual add and RMSNorm into ws.normed); nothing where it is null. */
  private void flushNorm(PendingNorm norm, int rows) {
    flushNorm(norm, rows, false);
  }

  /** {@link #flushNorm(PendingNorm, int)}, with {@code codes} also quantizing its rows for fp8-dynamic's projection. */
  private void flushNorm(PendingNorm norm, int rows, boolean codes) {
    if (norm == null) return;
    RmsNormParams p = new RmsNormParams(ws.at(ws.normed), residualAt, norm.delta(), norm.weight(), rows,
        c.hiddenSize(), c.rmsNormEps(), norm.deltaFloat() ? 1 : 0);
    launchNorm(codes ? p.withCodes(fp8Activations.codes(), fp8Activations.scales()) : p);
  }

  /** The MoE kernels, or null for a dense model. */
  MoeLayerKernels moe() {
    return moe;
  }

  /**
   * One projection of a layer: the FP8 path when its weights are FP8 (row scales at {@code scales} >= 0); at one
   * row of bf16 weights the bf16 GEMV where it runs ({@link Projections#gemvBf16Chosen}).
   */
  private void project(long out, int stride, long x, long w, long scales, int m, int n, int k, boolean outFloat) {
    if (scales >= 0 && fp8Activations != null) {
      fp8Activations.project(out, stride, x, weights.address(w), weights.address(scales), m, n, k, outFloat);
    } else if (scales >= 0) {
      projections.projectFp8(out, stride, x, weights.address(w), weights.address(scales), weights.widenedScratch(),
          m, n, k, outFloat);
    } else if (m == 1 && projections.gemvBf16Chosen(n, k, stride, outFloat, x, weights.address(w))) {
      projections.run(GemmChoice.ours(GemmChoice.Kernel.GEMV_BF16_MMA, Double.NaN),
          new GemmShape(1, n, k, stride, outFloat), out, x, weights.address(w));
    } else {
      projections.project(out, stride, x, weights.address(w), m, n, k, outFloat);
    }
  }

  /** A rank's o and down projections cover its own heads or columns only: sum (rows, hidden) over the group. */
  private void completePartialSums(int rows) {
    if (partialSums == null) return;
    mark(KernelFamily.ALL_REDUCE);
    partialSums.allReduce(ws.at(ws.delta), (long) rows * c.hiddenSize());
  }

  /**
   * Logits of {@code count} sample rows starting at sample index {@code first}: (count, vocab) bf16
   * in ws.logits, and, when {@code tokens}, their tokens in ws.tokens: the argmax, or with {@code
   * sampling} each row's draw by its params (SAMPLE, whose greedy rows take the argmax).
   *
   * @param identity sample row i is batch row i (no gather)
   * @param sampling the step's sample rows' params, already in ws.sampling; null: argmax
   */
  void head(StepLaunch s, int first, int count, boolean identity, boolean tokens, SamplingInputs sampling) {
    int h = c.hiddenSize();
    long x;
    if (identity) {
      x = ws.at(ws.normed, 2L * first * h);
    } else {
      EmbeddingParams gather = new EmbeddingParams(ws.at(ws.sampled), ws.at(ws.normed),
          s.at(s.layout().sampleRows()) + 4L * first, count, h, s.rows());
      mark(KernelFamily.EMBEDDING);
      launch(Kernel.EMBEDDING, gather.launch(), gather);
      x = ws.at(ws.sampled);
    }
    mark(KernelFamily.LM_HEAD);
    projections.project(ws.at(ws.logits), c.vocabSize(), x, weights.address(weights.layout().lmHead()), count,
        c.vocabSize(), h);
    if (tokens && sampling != null) {
      sample(first, count, sampling);
    } else if (tokens) {
      ArgmaxParams p = new ArgmaxParams(ws.at(ws.tokens), ws.at(ws.logits), count, c.vocabSize(), c.vocabSize());
      mark(KernelFamily.SAMPLING);
      launch(Kernel.ARGMAX, p.launch(), p);
    }
    if (marks != null) marks.pause(); // the output copy that follows is the step's, no family's
  }

  /**
   * Draws the tokens of sample rows {@code first ..} from the {@code count} rows of logits in
   * ws.logits by their params (already in ws.sampling) into ws.tokens: SAMPLE, as {@link #head} ends
   * for a sampled group, or after a decode graph's replay in place of its argmax.
   */
  void sample(int first, int count, SamplingInputs sampling) {
    SampleParams p = sampling.kernelParams(ws.at(ws.sampling), ws.at(ws.tokens), ws.at(ws.logits), first, count,
        c.vocabSize());
    mark(KernelFamily.SAMPLING);
    launch(Kernel.SAMPLE, p.launch(), p);
  }

  private void launchNorm(RmsNormParams p) {
    mark(KernelFamily.NORM);
    launch(Kernel.RMSNORM, p.launch(), p);
  }

  private void launch(Kernel kernel, EmbeddingParams p) {
    launch(kernel, p.launch(), p);
  }

  private void launch(Kernel kernel, LaunchShape shape, KernelParams params) {
    kernels.launch(kernel, shape, params, stream);
  }

  /** Refuses, naming every problem, a model whose shapes the kernels cannot run. */
  static void checkShapes(ModelConfig c) {
    List<String> problems = new ArrayList<>();
    if (c.hiddenSize() % 8 != 0 || c.hiddenSize() > RmsNormParams.MAX_HIDDEN) {
      problems.add("hidden_size " + c.hiddenSize() + " must be a multiple of 8 and <= " + RmsNormParams.MAX_HIDDEN);
    }
    if (c.intermediateSize() % 8 != 0) {
      problems.add("intermediate_size " + c.intermediateSize() + " must be a multiple of 8");
    }
    if (c.headDim() % 16 != 0 || c.headDim() > 256) {
      problems.add("head_dim " + c.headDim() + " must be a multiple of 16 and <= 256");
    }
    if (c.qkNorm() && c.numAttentionHeads() + c.numKeyValueHeads() > RopeKvParams.MAX_NORM_HEADS) {
      problems.add(c.numAttentionHeads() + " query and " + c.numKeyValueHeads() + " key/value heads: the q/k norms"
          + " take at most " + RopeKvParams.MAX_NORM_HEADS + " heads together");
    }
    if (c.isMoe()) {
      MoeConfig m = c.moe();
      if (m.numExperts() > MoeRouteParams.MAX_EXPERTS || m.expertsPerToken() > MoeRouteParams.MAX_K) {
        problems.add(m.numExperts() + " experts, " + m.expertsPerToken() + " per token: the MoE kernels take at most "
            + MoeRouteParams.MAX_EXPERTS + " experts and " + MoeRouteParams.MAX_K + " per token");
      }
      if (m.moeIntermediateSize() % 8 != 0) {
        problems.add("moe_intermediate_size " + m.moeIntermediateSize() + " must be a multiple of 8");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model " + c.name() + " cannot run on the CUDA backend: "
          + String.join("; ", problems));
    }
  }
}
