package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.agent.backend.cuda.gemm.TensorMapCache;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.DecodeAttentionGraphParams;
import io.decodefleet.kernels.cuda.DecodeAttentionParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KernelParams;
import io.decodefleet.kernels.cuda.LaunchShape;
import io.decodefleet.kernels.cuda.PagedAttentionFp8Params;
import io.decodefleet.kernels.cuda.PagedAttentionParams;
import io.decodefleet.kernels.cuda.PagedPrefillAttentionParams;
import io.decodefleet.kernels.cuda.PrefillAttentionParams;
import io.decodefleet.kernels.cuda.PrefillAttentionTmaParams;
import io.decodefleet.kernels.cuda.RopeKvFp8Params;
import io.decodefleet.kernels.cuda.RopeKvParams;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUmemorytype;
import jcuda.driver.JCudaDriver;

/**
 * A layer's attention block for {@link LayerStack}: RoPE + KV append of the qkv projection's output (q
 * written packed, fresh rows' k and v copied packed for the prefill kernel), then attention over the cache in
 * use ({@link #use}: the live pool, or a scratch one) into ws.attn. Like the stack, it only enqueues.
 */
final class AttentionBlock {

  private final ModelConfig c;
  private final KernelModule kernels;
  private final CudaStream stream;
  private final DeviceWeights weights;
  private final Workspace ws;
  private final int qkvWidth;
  private final float scale;
  private final float scaleLog2;
  /** The TMA prompt attention's maps of q, k and v by step rows (three a prompt length seen lately). */
  private final TensorMapCache tmaMaps;
  private KvPool kv;
  private long cosSin;
  private int tablePositions;

  AttentionBlock(ModelConfig config, KernelModule kernels, CudaStream stream, DeviceWeights weights, Workspace ws) {
    this.c = config;
    this.kernels = kernels;
    this.stream = stream;
    this.weights = weights;
    this.ws = ws;
    this.qkvWidth = config.qSize() + 2 * config.kvSize();
    this.scale = (float) (1.0 / Math.sqrt(config.headDim()));
    this.scaleLog2 = (float) (scale / Math.log(2.0));
    this.tmaMaps = new TensorMapCache(kernels.context().gpu(), 24);
  }

  /** What a prompt's attention runs on here, as the settings say (the model-load line). */
  static String promptKernels(KernelModule kernels) {
    return PrefillAttentionParams.choice(kernels.runsHere(Kernel.PREFILL_ATTENTION_WGMMA_D128), TensorMaps.isAvailable());
  }

  /** The cache and RoPE table the next launches use. */
  void use(KvPool pool, long cosSinTable, int positions) {
    this.kv = pool;
    this.cosSin = cosSinTable;
    this.tablePositions = positions;
  }

  KvPool pool() {
    return kv;
  }

  /**
   * RoPE (after the q/k/v biases and the q/k norms when the layer has them) and the KV append, the rotated q
   * written packed into ws.q; then fresh rows' k and v packed.
   */
  void ropeAndAppend(StepLaunch s, int layer, WeightLayout.LayerWeights lw) {
    long qkv = ws.at(ws.qkv);
    RopeKvParams plain = new RopeKvParams(qkv, qkv + 2L * c.qSize(), qkv + 2L * (c.qSize() + c.kvSize()),
        kv.keys(layer), kv.values(layer), s.at(s.layout().positions()), s.at(s.layout().slots()), cosSin,
        s.rows(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), qkvWidth, qkvWidth, qkvWidth,
        tablePositions);
    RopeKvParams biased = lw.biases()
        ? plain.withBiases(weights.address(lw.qBias()), weights.address(lw.kBias()), weights.address(lw.vBias()))
        : plain;
    RopeKvParams normed = lw.qkNorm()
        ? biased.withQkNorm(weights.address(lw.qNorm()), weights.address(lw.kNorm()), c.rmsNormEps()) : biased;
    // The attention kernels read q densely packed: the rotation writes it there.
    RopeKvParams p = normed.withQOut(ws.at(ws.q), c.qSize());
    if (kv.fp8()) {
      RopeKvFp8Params f = RopeKvFp8Params.of(p, kv.kScale(layer), kv.vScale(layer));
      launch(Kernel.ROPE_KV_APPEND_FP8, f.launch(), f);
    } else {
      launch(Kernel.ROPE_KV_APPEND, p.launch(), p);
    }
    // The prefill kernel reads fresh rows' k and v densely packed.
    if (s.freshRows() > 0) {
      copyColumns(ws.qkv, c.qSize(), ws.k, c.kvSize(), s.freshRows());
      copyColumns(ws.qkv, c.qSize() + c.kvSize(), ws.v, c.kvSize(), s.freshRows());
    }
  }

  /**
   * Attention of the step's rows over the groups of {@link StepPlan}: fresh rows through the causal prefill
   * kernel, continued spans through the paged prefill kernel, the rest through the decode (or plain paged)
   * kernel, into ws.attn.
   */
  void attend(StepLaunch s, int layer) {
    int d = c.headDim();
    int qHeads = c.numAttentionHeads();
    int kvHeads = c.numKeyValueHeads();
    int bs = kv.blockSize();
    StepInputs in = s.layout();
    if (s.freshRows() > 0) {
      PrefillAttentionParams p = new PrefillAttentionParams(ws.at(ws.attn), ws.at(ws.q), ws.at(ws.k), ws.at(ws.v),
          s.at(in.seqStarts()), s.freshSpans(), qHeads, kvHeads, d, scaleLog2);
      Kernel kernel = p.kernel(s.maxFreshLength());
      if (!kernels.runsHere(kernel)) kernel = p.kernel(Kernel.PREFILL_ATTENTION_D128);
      Kernel tma = PrefillAttentionParams.tmaKernel();
      if (kernel == Kernel.PREFILL_ATTENTION_WGMMA_D128 && tma != null && TensorMaps.isAvailable()) {
        // The step's q, k and v maps: encoded by its first layer, the same for every other.
        PrefillAttentionTmaParams t = PrefillAttentionTmaParams.of(p, s.freshRows(), tmaMaps::get);
        launch(tma, t.launch(s.maxFreshLength()), t);
      } else {
        launch(kernel, p.launch(kernel, s.maxFreshLength()), p);
      }
    }
    if (s.continuedSpans() > 0) {
      // Row offsets and positions are the step's own (launch rows); the spans' tables lead the staged ones.
      PagedPrefillAttentionParams p = PagedPrefillAttentionParams.of(ws.at(ws.attn), ws.at(ws.q), kv.keys(layer),
          kv.values(layer), s.at(in.spanStarts()), s.at(in.positions()), s.at(in.blockTables()), s.continuedSpans(),
          qHeads, kvHeads, d, bs, s.tableStride(), scale).withKvScales(kv.kScale(layer), kv.vScale(layer));
      launch(p.kernel(kv.fp8()), p.launch(s.maxContinuedLength()), p);
    }
    int paged = s.pagedRows();
    if (paged == 0) {
      return;
    }
    long rowOffset = 2L * s.firstPaged() * c.qSize();
    long out = ws.at(ws.attn, rowOffset);
    long q = ws.at(ws.q, rowOffset);
    long tables = s.at(in.blockTables()) + 4L * s.continuedSpans() * s.tableStride();
    if (s.attention() instanceof StepLaunch.EagerDecode e) {
      DecodeAttentionParams p = DecodeAttentionParams.of(e.plan(), new DecodeAttentionParams.Buffers(out, q,
          kv.keys(layer), kv.values(layer), tables, s.at(in.contextLens()), s.at(in.workItems()),
          s.at(in.partialBase()), ws.at(ws.attnPartials), ws.at(ws.attnLse), ws.at(ws.attnCounters)), qHeads, d,
          bs, s.tableStride(), scale).withKvScales(kv.kScale(layer), kv.vScale(layer));
      Kernel k = p.kernel(e.persistent(), kv.fp8());
      if (e.persistent()) {
        launch(k, e.plan().persistentLaunch(k, e.slots()), p);
      } else {
        launch(k, e.plan().splitLaunch(k), p);
        if (e.plan().needsCombine()) {
          launch(p.combineKernel(), e.plan().combineLaunch(p.combineKernel()), p);
        }
      }
    } else if (s.attention() instanceof StepLaunch.GraphDecode g) {
      DecodeAttentionGraphParams p = new DecodeAttentionGraphParams(out, q, kv.keys(layer), kv.values(layer),
          tables, s.at(in.contextLens()), s.at(in.workItems()), s.at(in.partialBase()),
          ws.at(ws.attnPartials), ws.at(ws.attnLse), ws.at(ws.attnCounters), s.at(in.dims()), paged, qHeads,
          kvHeads, d, bs, Integer.numberOfTrailingZeros(bs), scaleLog2).withKvScales(kv.kScale(layer),
          kv.vScale(layer));
      Kernel k = p.kernel(g.persistent(), kv.fp8());
      if (g.persistent()) {
        launch(k, LaunchShape.grid1d(g.slots(), k), p);
      } else {
        // Whether the step splits is known only on the device: the combine always runs, and its
        // CTAs for single-chunk sequences exit at once.
        launch(k, LaunchShape.grid1d(g.maxItems(), k), p);
        launch(p.combineKernel(), p.combineLaunch(), p);
      }
    } else if (kv.fp8()) {
      PagedAttentionFp8Params p = new PagedAttentionFp8Params(out, q, kv.keys(layer), kv.values(layer),
          tables, s.at(in.contextLens()), s.at(in.dims()), paged, qHeads, kvHeads, d, bs, scale,
          kv.kScale(layer), kv.vScale(layer));
      launch(Kernel.PAGED_ATTENTION_FP8, p.launch(), p);
    } else {
      PagedAttentionParams p = new PagedAttentionParams(out, q, kv.keys(layer), kv.values(layer),
          tables, s.at(in.contextLens()), s.at(in.dims()), paged, qHeads, kvHeads, d, bs, scale);
      launch(Kernel.PAGED_ATTENTION, p.launch(), p);
    }
  }

  /**
   * Copies {@code width} columns starting at column {@code from} of the (rows, qkvWidth) qkv
   * buffer into the dense (rows, width) region {@code to}: one 2-D copy node.
   */
  private void copyColumns(long fromRegion, int from, long toRegion, int width, int rows) {
    if (rows == 0) {
      return;
    }
    CUDA_MEMCPY2D m = new CUDA_MEMCPY2D();
    m.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
    m.srcDevice = ws.buffer().pointer().withByteOffset(fromRegion + 2L * from);
    m.srcPitch = 2L * qkvWidth;
    m.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
    m.dstDevice = ws.buffer().pointer().withByteOffset(toRegion);
    m.dstPitch = 2L * width;
    m.WidthInBytes = 2L * width;
    m.Height = rows;
    kernels.context().check(JCudaDriver.cuMemcpy2DAsync(m, stream.handle()),
        "cuMemcpy2DAsync(" + rows + " rows x " + (2 * width) + " B)");
  }

  private void launch(Kernel kernel, LaunchShape shape, KernelParams params) {
    kernels.launch(kernel, shape, params, stream);
  }
}
