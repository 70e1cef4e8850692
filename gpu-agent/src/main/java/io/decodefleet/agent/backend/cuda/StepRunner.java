package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaGraph;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.driver.PinnedBuffer;
import io.decodefleet.agent.backend.cuda.kv.KvPool;
import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.sampling.SamplingParams;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import io.decodefleet.kernels.cuda.PagedPrefillAttentionParams;
import io.decodefleet.kernels.cuda.RopeTable;
import java.nio.ByteBuffer;
import java.nio.ShortBuffer;

/**
 * Runs one step on the live KV pool: plans it, stages its inputs, replays a decode graph or
 * launches eagerly, and brings back logits (or device-argmax tokens). Also the dense oracle
 * ({@link #denseLogits}) on a scratch pool.
 */
final class StepRunner implements AutoCloseable {

  /**
   * @param path what ran: the configured path for a graph replay, its eager counterpart otherwise
   * @param bucket rows launched (the graph bucket, or the step's rows)
   * @param launchedNanos {@code System.nanoTime()} when the step's last launch returned
   * @param output float[] (sampled, vocab) logits, or int[] (sampled) tokens
   */
  record Result(DecodePath path, int bucket, long launchedNanos, Object output) {}

  private final CudaContext ctx;
  private final KernelModule kernels;
  private final CudaStream stream;
  private final ModelConfig c;
  private final CudaSettings settings;
  private final Workspace ws;
  private final LayerStack stack;
  private final KvPool kv;
  private final boolean tensorCore;
  final HostParts hostParts = new HostParts(); // the last graph step's host time by part
  private final int minContinuedRows; // StepPlan's: a span fills one paged-prefill CTA; 0 without tensor cores
  private final int maxBlocksPerSeq;
  private final DeviceBuffer cosSin; // (tablePositions, headDim) float32
  private final int tablePositions;
  private final int eagerSlots;
  private final int graphSlots;
  private PinnedBuffer outputHost; // (logitsRows, vocab) bf16 or (logitsRows) int32
  private PinnedBuffer samplingHost; // SamplingInputs of up to ws.rows sample rows
  private PinnedBuffer eagerHost;
  private DeviceBuffer eagerInputs;
  private PinnedBuffer graphHost;
  private DeviceBuffer graphInputs;
  private StepInputs graphLayout;
  private DecodeGraphs graphs;
  private boolean countExperts = true; // false while the dense recompute runs (its load is not a step's)

  StepRunner(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig c, CudaSettings settings,
      Workspace ws, LayerStack stack, KvPool kv) {
    this.ctx = ctx;
    this.kernels = kernels;
    this.stream = stream;
    this.c = c;
    this.settings = settings;
    this.ws = ws;
    this.stack = stack;
    this.kv = kv;
    int bs = kv.blockSize();
    this.tensorCore = settings.attention() == CudaSettings.AttentionKernels.AUTO
        && AttentionSlots.tensorCoreFits(c, bs);
    this.minContinuedRows = tensorCore
        ? PagedPrefillAttentionParams.rowsPerCta(c.numAttentionHeads(), c.numKeyValueHeads()) : 0;
    boolean persistent = settings.decodePath().persistentAttention();
    this.eagerSlots = tensorCore ? AttentionSlots.eager(kernels, c.headDim(), persistent, kv.fp8()) : 1;
    this.graphSlots = tensorCore ? AttentionSlots.graph(kernels, c.headDim(), persistent, kv.fp8()) : 1;
    int maxModelLen = (int) Math.min(c.maxPositionEmbeddings(), (long) kv.numBlocks() * bs);
    this.maxBlocksPerSeq = StepPlan.blocksFor(maxModelLen, bs);
    this.tablePositions = maxModelLen;
    float[] table = RopeTable.cosSin(tablePositions, c.headDim(), c.ropeFrequencies());
    this.cosSin = ctx.allocate(4L * table.length);
    try {
      cosSin.upload(table);
      this.outputHost = PinnedBuffer.allocate(ctx, (long) ws.logitsRows * c.vocabSize() * 2);
      this.samplingHost = PinnedBuffer.allocate(ctx, SamplingInputs.capacityBytes(ws.rows));
      stack.use(kv, cosSin.address(), tablePositions);
      if (settings.decodePath().usesGraphs()) {
        int rows = settings.graphBucketLimit();
        int items = tensorCore ? DecodeAttentionPlan.maxItems(rows, c.numKeyValueHeads(), graphSlots) : 0;
        graphLayout = new StepInputs(rows, rows, 0, 0, rows, items, (long) rows * maxBlocksPerSeq);
        graphHost = PinnedBuffer.allocate(ctx, graphLayout.capacityBytes());
        graphInputs = ctx.allocate(graphLayout.capacityBytes());
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  String attentionDescription() {
    return tensorCore ? "tensor-core (prefill, paged prefill and paged decode kernels; prompts on "
        + AttentionBlock.promptKernels(kernels) + ")" : "plain paged kernel";
  }

  /** Replays go to these graphs from now on. */
  void useGraphs(DecodeGraphs captured) {
    this.graphs = captured;
  }

  /** Compiles the host part of graph steps before the first real one ({@link HostPathWarmUp}); its ms. */
  long warmHostPath(java.util.List<Integer> buckets) {
    return graphs == null ? 0 : HostPathWarmUp.run(buckets, kv.blockSize(), maxBlocksPerSeq, HostPathWarmUp.STEPS,
        batch -> {
          StepPlan plan = plan(batch);
          int bucket = BatchBuckets.bucketOf(plan.rows());
          graphLayout.write(graphHost.bytes(), batch, plan, bucket, true, plan.tableStride(), graphPlan(batch, bucket));
        });
  }

  /**
   * Stages an all-padding step for {@code bucket} and returns the launches of its graph: the
   * decoder over the bucket's rows, the LM head over all of them, argmax.
   */
  Runnable graphWarmUp(int bucket) {
    // One row that stores nothing (slot -1) and reads block 0; the writer pads the rest alike.
    ForwardBatch padding = new ForwardBatch(new int[] {0}, new int[] {0}, new int[] {-1}, new int[][] {{0}},
        new int[] {1}, new int[] {0});
    StepPlan plan = StepPlan.of(padding, kv.blockSize(), false);
    stage(graphHost, graphInputs, graphLayout, padding, plan, bucket, true, 1, graphPlan(padding, bucket), null);
    StepLaunch s = graphLaunch(bucket);
    return () -> {
      kernels.forStep(bucket); // the graph's launches, captured with the launch mode of a step of its rows
      stack.body(s);
      stack.head(s, 0, bucket, true, true, null);
    };
  }

  private StepLaunch graphLaunch(int bucket) {
    StepLaunch.Attention a = tensorCore
        ? new StepLaunch.GraphDecode(settings.decodePath().persistentAttention(),
            DecodeAttentionPlan.maxItems(bucket, c.numKeyValueHeads(), graphSlots), graphSlots)
        : StepLaunch.Paged.INSTANCE;
    return StepLaunch.allPaged(bucket, graphInputs.address(), graphLayout, a);
  }

  private DecodeAttentionPlan graphPlan(ForwardBatch batch, int bucket) {
    return tensorCore
        ? DecodeAttentionPlan.plan(StepPlan.paddedContexts(batch, 0, bucket), c.numKeyValueHeads(), graphSlots)
        : null;
  }

  Result run(ForwardBatch batch, boolean greedy, StepEvents events) {
    hostParts.start();
    StepPlan plan = plan(batch);
    kernels.forStep(decodeRows(plan));
    hostParts.end(0);
    int n = plan.rows();
    CudaGraph graph = graphFor(plan);
    if (graph != null) {
      int bucket = BatchBuckets.bucketOf(n);
      DecodeAttentionPlan attention = graphPlan(batch, bucket);
      hostParts.end(1);
      stage(graphHost, graphInputs, graphLayout, batch, plan, bucket, true, plan.tableStride(), attention, events);
      graph.launch(stream);
      long launched = System.nanoTime();
      hostParts.end(4);
      Object out = newOutput(n, greedy);
      fetch(out, 0, n, greedy, events, true);
      return new Result(settings.decodePath(), bucket, launched, out);
    }
    Object out = newOutput(batch.numSampled(), greedy);
    long launched = eager(plan, greedy, null, out, events);
    return new Result(settings.decodePath().eager(), n, launched, out);
  }

  /**
   * As {@link #run} for tokens, each sample row's drawn on the device by its params (SAMPLE in place
   * of ARGMAX). With {@link CudaSettings#sampledGraphs} (the default) a pure decode step whose
   * bucket was captured replays its greedy graph (which leaves every row's logits in ws.logits) and
   * then launches SAMPLE over those logits, overwriting the graph's argmax tokens: one more launch
   * and one wasted argmax, no second set of graphs. Without it every sampled step runs eagerly.
   *
   * @param params (sampled) the sample rows' params
   * @param positions (sampled) the position each sampled token takes
   */
  Result runSampled(ForwardBatch batch, SamplingParams[] params, int[] positions, StepEvents events) {
    if (params.length != batch.numSampled()) {
      throw new IllegalArgumentException(params.length + " sampling params for " + batch.numSampled()
          + " sample rows");
    }
    StepPlan plan = plan(batch);
    kernels.forStep(decodeRows(plan));
    int[] out = new int[batch.numSampled()];
    CudaGraph graph = settings.sampledGraphs() ? graphFor(plan) : null;
    if (graph != null) {
      int n = plan.rows();
      int bucket = BatchBuckets.bucketOf(n);
      stage(graphHost, graphInputs, graphLayout, batch, plan, bucket, true, plan.tableStride(),
          graphPlan(batch, bucket), events);
      SamplingInputs sampling = new SamplingInputs(params, positions);
      // The staging copy is free: the previous step synchronised before it returned.
      samplingHost.copyTo(ws.buffer(), ws.sampling, sampling.write(samplingHost.bytes()), stream);
      graph.launch(stream);
      stack.sample(0, n, sampling); // a pure decode step's sample rows are its launch rows, in order
      long launched = System.nanoTime();
      fetch(out, 0, n, true, events, true);
      return new Result(settings.decodePath(), bucket, launched, out);
    }
    long launched = eager(plan, true, new SamplingInputs(params, positions), out, events);
    return new Result(settings.decodePath().eager(), plan.rows(), launched, out);
  }

  /**
   * As {@link #runSampled} (greedy params take the argmax), always eager, each kernel family's
   * launches between events of {@code marks} ({@code --profile-steps}).
   */
  Result runProfiled(ForwardBatch batch, SamplingParams[] params, int[] positions, StepEvents events,
      io.decodefleet.agent.engine.FamilyTimeline marks) {
    boolean greedy = java.util.Arrays.stream(params).allMatch(SamplingParams::greedy);
    StepPlan plan = plan(batch);
    kernels.forStep(decodeRows(plan));
    int[] out = new int[batch.numSampled()];
    stack.profile(marks);
    try {
      long launched = eager(plan, true, greedy ? null : new SamplingInputs(params, positions), out, events);
      return new Result(settings.decodePath().eager(), plan.rows(), launched, out);
    } finally {
      stack.profile(null);
    }
  }

  /** (rows) the batch's row at each launch row of its step (the plan may group spans ahead of rows before them). */
  int[] launchOrder(ForwardBatch batch) {
    return plan(batch).order();
  }

  /** Rows of {@code plan} that go to the decode kernel (one token each): what sets a step's launch mode. */
  static int decodeRows(StepPlan plan) {
    return plan.rows() - plan.firstSingle();
  }

  /** The graph that replays {@code plan}: a pure decode step whose bucket was captured; else null. */
  private CudaGraph graphFor(StepPlan plan) {
    if (graphs == null || !plan.decodeOnly() || plan.tableStride() > maxBlocksPerSeq) return null;
    return graphs.forBucket(BatchBuckets.bucketOf(plan.rows()));
  }

  private StepPlan plan(ForwardBatch batch) {
    StepPlan plan = StepPlan.of(batch, kv.blockSize(), tensorCore, minContinuedRows);
    if (plan.rows() > ws.rows) {
      throw new IllegalArgumentException("a step of " + plan.rows() + " tokens exceeds the CUDA backend's max step"
          + " tokens (" + ws.rows + ")");
    }
    return plan;
  }

  /**
   * Launches a whole step eagerly; returns when the first LM-head group's launches returned.
   *
   * @param sampling with {@code greedy}: draw the tokens by these params instead of the argmax; else null
   */
  private long eager(StepPlan plan, boolean greedy, SamplingInputs sampling, Object out, StepEvents events) {
    ForwardBatch batch = plan.batch();
    int n = plan.rows();
    int first = plan.firstSingle();
    int stride = plan.tableStride();
    DecodeAttentionPlan attention = tensorCore && first < n
        ? DecodeAttentionPlan.plan(StepPlan.paddedContexts(batch, first, n), c.numKeyValueHeads(), eagerSlots)
        : null;
    StepInputs layout = StepInputs.exactFor(plan, batch.numSampled(), stride,
        attention == null ? 0 : attention.numItems());
    ensureEagerStaging(layout.capacityBytes());
    stage(eagerHost, eagerInputs, layout, batch, plan, n, false, stride, attention, events);
    if (sampling != null) {
      // The staging copy is free: the previous step synchronised before it returned.
      samplingHost.copyTo(ws.buffer(), ws.sampling, sampling.write(samplingHost.bytes()), stream);
    }
    StepLaunch.Attention a = tensorCore
        ? new StepLaunch.EagerDecode(attention, settings.decodePath().persistentAttention(), eagerSlots)
        : StepLaunch.Paged.INSTANCE;
    StepLaunch s = new StepLaunch(n, plan.freshRows(), plan.freshSpans(), plan.maxFreshLength(), plan.continuedSpans(),
        plan.maxContinuedLength(), first, stride, eagerInputs.address(), layout, a);
    stack.body(s);
    int sampled = batch.numSampled();
    long launched = 0;
    for (int g = 0; g < sampled; g += ws.logitsRows) {
      int count = Math.min(ws.logitsRows, sampled - g);
      stack.head(s, g, count, plan.sampleIdentity(), greedy, sampling);
      launched = launched == 0 ? System.nanoTime() : launched;
      fetch(out, g, count, greedy, events, g + count >= sampled);
    }
    if (sampled == 0) {
      launched = System.nanoTime();
      events.recordEnd(stream);
      copyExpertLoad();
      stream.synchronize("a step with no sample rows");
      takeExpertLoad();
    }
    return launched;
  }

  /**
   * Packs the step's inputs and enqueues their copy, the step's first device work: the start event
   * goes right before it, so device time and idle gap do not count the host's packing as device time.
   */
  private void stage(PinnedBuffer host, DeviceBuffer device, StepInputs layout, ForwardBatch batch, StepPlan plan,
      int rows, boolean allPaged, int stride, DecodeAttentionPlan attention, StepEvents events) {
    long bytes = layout.write(host.bytes(), batch, plan, rows, allPaged, stride, attention);
    hostParts.end(2);
    if (events != null) {
      events.recordStart(stream);
    }
    host.copyTo(device, 0, bytes, stream);
    hostParts.end(3);
  }

  private void ensureEagerStaging(long bytes) {
    if (eagerHost != null && eagerHost.size() >= bytes) {
      return;
    }
    long size = Math.max(bytes, Math.max(64 << 10, eagerHost == null ? 0 : eagerHost.size() * 3 / 2));
    closeEagerStaging();
    eagerHost = PinnedBuffer.allocate(ctx, size);
    eagerInputs = ctx.allocate(size);
  }

  private Object newOutput(int rows, boolean greedy) {
    return greedy ? new int[rows] : new float[rows * c.vocabSize()];
  }

  /** Copies {@code count} rows of logits (or tokens) back into {@code out} from row {@code at}. */
  private void fetch(Object out, int at, int count, boolean greedy, StepEvents events, boolean last) {
    int vocab = c.vocabSize();
    if (greedy) {
      outputHost.copyFrom(ws.buffer(), ws.tokens, 4L * count, stream);
    } else {
      outputHost.copyFrom(ws.buffer(), ws.logits, 2L * count * vocab, stream);
    }
    if (last) {
      events.recordEnd(stream);
      copyExpertLoad();
    }
    stream.synchronize(greedy ? "copying tokens back" : "copying logits back");
    if (last) takeExpertLoad();
    ByteBuffer host = outputHost.bytes();
    if (greedy) {
      int[] tokens = (int[]) out;
      for (int i = 0; i < count; i++) {
        tokens[at + i] = host.getInt(4 * i);
      }
    } else {
      float[] logits = (float[]) out;
      ShortBuffer bf16 = host.asShortBuffer();
      int base = at * vocab;
      for (int i = 0, e = count * vocab; i < e; i++) {
        logits[base + i] = Float.intBitsToFloat((bf16.get(i) & 0xffff) << 16);
      }
    }
  }

  /** A mixture of experts' step: its expert load comes back with its outputs, on the same stream. */
  private void copyExpertLoad() {
    if (countExperts && stack.moe() != null) stack.moe().enqueueLoadCopy();
  }

  private void takeExpertLoad() {
    if (countExperts && stack.moe() != null) stack.moe().takeLoad();
  }

  /**
   * Logits of every position of {@code tokens} with no cache but the sequence's own: the tokens
   * run as one fresh prompt (in chunks of the workspace's rows) over a scratch pool, so the live
   * cache is untouched.
   */
  float[] denseLogits(int[] tokens) {
    int n = tokens.length;
    if (n > tablePositions) {
      throw new IllegalArgumentException("sequence of " + n + " tokens is longer than the " + tablePositions
          + " positions this backend holds");
    }
    float[] out = new float[n * c.vocabSize()];
    if (n == 0) {
      return out;
    }
    int bs = kv.blockSize();
    int[] table = new int[StepPlan.blocksFor(n, bs)];
    for (int b = 0; b < table.length; b++) {
      table[b] = b;
    }
    // A bf16 pool whatever the live one holds: the recompute stands for attention without a cache,
    // as the CPU backend's does (with an FP8 cache the check's tolerance allows for its rounding).
    try (KvPool scratch = KvPool.allocate(ctx, c, table.length, bs);
        StepEvents events = new StepEvents(ctx)) {
      stack.use(scratch, cosSin.address(), tablePositions);
      countExperts = false;
      for (int c0 = 0; c0 < n; c0 += ws.rows) {
        int rows = Math.min(ws.rows, n - c0);
        int[] tok = new int[rows];
        int[] pos = new int[rows];
        int[] rowsOut = new int[rows];
        int[][] tables = new int[rows][];
        int[] ctxLens = new int[rows];
        for (int i = 0; i < rows; i++) {
          tok[i] = tokens[c0 + i];
          pos[i] = c0 + i;
          rowsOut[i] = i;
          tables[i] = table;
          ctxLens[i] = c0 + i + 1;
        }
        ForwardBatch chunk = new ForwardBatch(tok, pos, pos.clone(), tables, ctxLens, rowsOut);
        float[] logits = (float[]) newOutput(rows, false);
        eager(StepPlan.of(chunk, bs, tensorCore, minContinuedRows), false, null, logits, events);
        System.arraycopy(logits, 0, out, c0 * c.vocabSize(), logits.length);
      }
    } finally {
      countExperts = true;
      stack.use(kv, cosSin.address(), tablePositions);
    }
    return out;
  }

  private void closeEagerStaging() {
    try {
      if (eagerHost != null) eagerHost.close();
    } finally {
      eagerHost = null;
      if (eagerInputs != null) eagerInputs.close();
      eagerInputs = null;
    }
  }

  @Override
  public void close() {
    try {
      closeEagerStaging();
    } finally {
      try {
        if (graphHost != null) graphHost.close();
        if (graphInputs != null) graphInputs.close();
        if (outputHost != null) outputHost.close();
        if (samplingHost != null) samplingHost.close();
      } finally {
        cosSin.close();
      }
    }
  }
}
