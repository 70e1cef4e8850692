package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaDriver;
import io.decodefleet.agent.backend.cuda.driver.CudaGraph;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.EventTimer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoices;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.agent.cublas.CublasLt;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.Fatbin;
import io.decodefleet.kernels.cuda.FillParams;
import io.decodefleet.kernels.cuda.Kernel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GEMM dispatch's measurements at model load: for every projection of the model (q/k/v, o,
 * gate/up, down, LM head) at every row count a step can have (each decode graph bucket, then
 * powers of two up to the step's token limit), the candidates of {@link GemmTuner} are timed on
 * the real weights — each repetition on the next layer's, so the weights stream from HBM as in a
 * step instead of sitting in L2 — against noise in the activation workspace, and the fastest is
 * kept. Decisions are cached on disk per device, driver, cuBLASLt and kernel build ({@link
 * #cacheFile}); a later load times only what the cache lacks.
 */
final class GemmTuning {

  private static final Logger LOG = LoggerFactory.getLogger(GemmTuning.class);
  /** Untimed launches before, and timed launches of, each candidate. */
  static final int WARMUP = 2;
  static final int REPS = 8;
  /** Environment variable naming the cache folder ("off": no cache). */
  static final String CACHE_ENV = "DECODEFLEET_CACHE_DIR";

  /**
   * One projection as the model runs it.
   *
   * @param shape its shape at one row
   * @param x the input region of the workspace, y the output region
   * @param weights the weight matrix of each layer (one entry for the LM head)
   * @param rows the row counts to time
   * @param scales FP8: each layer's row scales beside its codes in {@code weights} (decode row counts, timed
   *     on our FP8 GEMMs); null for bf16 weights
   */
  record Site(String name, GemmShape shape, long x, long y, long[] weights, List<Integer> rows, long[] scales) {
    Site(String name, GemmShape shape, long x, long y, long[] weights, List<Integer> rows) {
      this(name, shape, x, y, weights, rows, null);
    }

    boolean fp8() {
      return scales != null;
    }
  }

  /**
   * What tuning decided and how: the choices, this model's shapes, how many were timed (the rest came
   * from the cache) and how long timing took; with FP8 weights, what runs inside the one-row FP8 GEMV.
   */
  record Outcome(GemmChoices choices, List<GemmShape> shapes, int timedShapes, long millis, String cache,
      String gemv) {
    String describe() {
      return choices.summary(shapes) + " (" + (timedShapes == 0 ? "all from the cache" : timedShapes
          + " shapes timed in " + millis + " ms") + (cache.isEmpty() ? "" : ", cache " + cache) + ")" + gemv;
    }
  }

  private GemmTuning() {}

  /** The name suffix of an FP8 projection's prefill site, timed on the bf16 scratch its weight widens into. */
  static final String WIDENED = " widened";
  /** The name suffix of an FP8 projection's decode site, timed on its e4m3 weights. */
  static final String FP8 = " fp8";

  /**
   * Opens cuBLASLt where the policy may use it (AUTO goes on without it, saying so in one line;
   * CUBLASLT requires it), times what the cache lacks, and hands the decisions to {@code projections}.
   * The caller poisons the workspace afterwards.
   *
   * @param own takes ownership of the cuBLASLt resources (closed with the backend)
   */
  static Outcome prepare(CudaContext ctx, KernelModule kernels, CudaStream stream, Projections projections,
      List<Site> sites, GemmTuner.Policy policy, Consumer<AutoCloseable> own) {
    CublasLtGemms lt = null;
    if (policy.usesCublasLt()) {
      if (CublasLt.isAvailable()) {
        lt = CublasLtGemms.open(ctx, stream);
        own.accept(lt);
      } else if (policy == GemmTuner.Policy.CUBLASLT) {
        throw new IllegalStateException("--gemm cublaslt on " + ctx.gpu().label() + ": " + CublasLt.unavailabilityCause());
      } else {
        LOG.info("{}: {}; the GEMMs run on our kernels", ctx.gpu().label(), CublasLt.unavailabilityCause());
      }
    }
    if (policy == GemmTuner.Policy.SKINNY2 && !projections.skinny2()) {
      throw new IllegalStateException("--gemm skinny2 on " + ctx.gpu().label() + ": " + Skinny2Gemms.unavailabilityCause());
    }
    boolean skinny2 = GemmTuner.skinny2InDispatch() && projections.skinny2();
    if (policy != GemmTuner.Policy.CUBLASLT) {
      String cause = WgmmaGemms.unavailabilityCause(ctx.gpu());
      LOG.info("{}: ours:wgmma {}", ctx.gpu().label(), projections.wgmma() ? "is a candidate from "
          + GemmTuner.WGMMA_MIN_ROWS + " rows" : !cause.isEmpty() ? "is not a candidate: " + cause
          : "is not a candidate (" + WgmmaGemms.SETTING_ENV + " is off)");
      if (policy != GemmTuner.Policy.SKINNY2) {
        LOG.info("{}: ours:skinny2 {}", ctx.gpu().label(), skinny2 ? "is a candidate up to "
            + GemmTuner.SKINNY2_MAX_ROWS + " rows" : !GemmTuner.skinny2InDispatch() ? "is not a candidate ("
            + GemmTuner.SKINNY2_SETTING_ENV + " is off)" : "is not a candidate: " + Skinny2Gemms.unavailabilityCause());
      }
    }
    boolean fp8 = sites.stream().anyMatch(Site::fp8);
    if (projections.wgmmaFp8()) {
      sites = sites.stream().filter(s -> !s.name().endsWith(WIDENED)).toList(); // prefill runs on the codes
    }
    if (fp8) {
      LOG.info("{}: FP8 decode projections: ours:skinny2-fp8 {}", ctx.gpu().label(), projections.skinny2Fp8()
          ? "is a candidate beside ours:skinny-fp8" : !GemmTuner.skinny2Fp8InDispatch() ? "is not a candidate ("
          + GemmTuner.SKINNY2_FP8_SETTING_ENV + " is not on)" : "is not a candidate: " + Skinny2Gemms.unavailabilityCause());
      LOG.info("{}: FP8 projections of one row: ours:gemv-fp8 {}", ctx.gpu().label(), projections.gemvFp8()
          ? "is a candidate beside the FP8 skinny GEMMs, " + switch (projections.gemvFp8Mma()) {
            case ON -> "on the tensor cores where the shape fits";
            case BOTH -> "with ours:gemv-fp8-mma timed apart where the shape fits";
            case OFF -> "a warp a row (" + GemmTuner.GEMV_FP8_MMA_SETTING_ENV + " is off)";
          }
          : "is not a candidate (" + GemmTuner.GEMV_FP8_SETTING_ENV + " is off)");
      LOG.info("{}: FP8 projections of {}+ rows: ours:skinny-fp8-wgmma {}", ctx.gpu().label(),
          GemmTuner.SKINNY_FP8_WGMMA_MIN_ROWS, projections.skinnyFp8Wgmma() ? "is a candidate beside the FP8 skinny GEMMs"
          : !GemmTuner.skinnyFp8WgmmaInDispatch() ? "is not a candidate (" + GemmTuner.SKINNY_FP8_WGMMA_SETTING_ENV
          + " is off)" : "is not a candidate: it is sm_90a code and " + ctx.gpu().label() + " is " + ctx.gpu().arch());
      String cause = WgmmaGemms.unavailabilityCause(ctx.gpu());
      LOG.info("{}: FP8 prefill projections {}", ctx.gpu().label(), projections.wgmmaFp8()
          ? "run ours:wgmma-fp8 on the codes (a decode candidate too from " + GemmTuner.WGMMA_MIN_ROWS + " rows)"
          : "widen each weight into the bf16 scratch for the bf16 dispatch (ours:wgmma-fp8 "
              + (!GemmTuner.wgmmaFp8InDispatch() ? GemmTuner.WGMMA_FP8_SETTING_ENV + " is not on)" : "cannot run: " + cause + ")"));
    }
    projections.useChoices(null, lt);
    // An FP8 model's decode rows hold FP8 choices: its decisions are cached apart from a bf16 model's.
    String key = key(ctx.gpu().summary(), policy) + ", wgmma " + (projections.wgmma() ? "on" : "off")
        + (skinny2 ? ", skinny2 on" : "") + (fp8 ? ", fp8 weights" + (projections.skinny2Fp8() ? ", skinny2-fp8 on" : "")
        + (projections.wgmmaFp8() ? ", wgmma-fp8 on" : "") + (projections.gemvFp8() ? ", gemv-fp8 on" : "")
        + (projections.gemvFp8Mma() != GemmTuner.GemvMma.OFF ? ", gemv-fp8-mma " + projections.gemvFp8Mma() : "") + (GemmTuner.gemvFp8Only() ? ", gemv-fp8 only" : "")
        + (projections.skinnyFp8Wgmma() ? ", skinny-fp8-wgmma on" : "") : "")
        + (!fp8 && projections.gemvBf16() == GemmTuner.GemvBf16.TIMED ? ", gemv-bf16 timed" : "");
    Outcome outcome = tune(projections, kernels, stream, sites, policy, key, cacheFile(key));
    projections.useChoices(outcome.choices(), lt);
    return outcome;
  }

  /** The model's projection sites over workspace {@code ws}, timed at {@code decodeRows} and prefill row counts. */
  static List<Site> sites(ModelConfig c, DeviceWeights weights, Workspace ws, boolean sharded, List<Integer> decodeRows,
      int maxStepTokens, int logitsRows) {
    WeightLayout layout = weights.layout();
    int layers = c.numHiddenLayers();
    long[] qkv = new long[layers];
    long[] o = new long[layers];
    long[] gateUp = new long[layers];
    long[] down = new long[layers];
    for (int l = 0; l < layers; l++) {
      WeightLayout.LayerWeights lw = layout.layer(l);
      qkv[l] = weights.address(lw.qkv());
      o[l] = weights.address(lw.o());
      gateUp[l] = lw.moe() ? 0 : weights.address(lw.gateUp());
      down[l] = lw.moe() ? 0 : weights.address(lw.down());
    }
    TreeSet<Integer> stepRows = new TreeSet<>(decodeRows);
    int top = stepRows.isEmpty() ? 0 : stepRows.last();
    for (int r = 512; r < maxStepTokens; r *= 2) {
      if (r > top) stepRows.add(r);
    }
    stepRows.add(maxStepTokens);
    stepRows.removeIf(r -> r > maxStepTokens);
    List<Integer> rows = List.copyOf(stepRows);
    List<Integer> headRows = List.copyOf(new TreeSet<>(decodeRows).headSet(logitsRows, true));
    int h = c.hiddenSize();
    int qkvWidth = c.qSize() + 2 * c.kvSize();
    int inter = c.intermediateSize();
    List<Site> sites = new ArrayList<>(List.of(
        new Site("qkv", new GemmShape(1, qkvWidth, h, qkvWidth, false), ws.at(ws.normed), ws.at(ws.qkv), qkv, rows),
        new Site("o", new GemmShape(1, h, c.qSize(), h, sharded), ws.at(ws.attn), ws.at(ws.delta), o, rows),
        new Site("gate_up", new GemmShape(1, 2 * inter, h, 2 * inter, false), ws.at(ws.normed), ws.at(ws.gateUp),
            gateUp, rows),
        new Site("down", new GemmShape(1, h, inter, h, sharded), ws.at(ws.act), ws.at(ws.delta), down, rows)));
    // A mixture of experts has no dense MLP (its experts are not timed as projections).
    if (c.isMoe()) sites.removeIf(s -> s.name().equals("gate_up") || s.name().equals("down"));
    if (layout.fp8()) {
      // FP8 projections: up to FP8_GEMM_MAX_ROWS rows run our FP8 decode GEMMs on the codes (timed
      // against each other); more rows run the bf16 dispatch on the one widened scratch matrix.
      List<Integer> decode = rows.stream().filter(r -> r <= Projections.FP8_GEMM_MAX_ROWS).toList();
      rows = rows.stream().filter(r -> r > Projections.FP8_GEMM_MAX_ROWS).toList();
      Map<String, ToLongFunction<WeightLayout.LayerWeights>> scalesOf = Map.of("qkv",
          WeightLayout.LayerWeights::qkvScales, "o", WeightLayout.LayerWeights::oScales, "gate_up",
          WeightLayout.LayerWeights::gateUpScales, "down", WeightLayout.LayerWeights::downScales);
      List<Site> split = new ArrayList<>();
      for (Site p : sites) {
        ToLongFunction<WeightLayout.LayerWeights> scaleOffset = scalesOf.get(p.name());
        long[] scales = new long[layers];
        for (int l = 0; l < layers; l++) scales[l] = weights.address(scaleOffset.applyAsLong(layout.layer(l)));
        split.add(new Site(p.name() + FP8, p.shape(), p.x(), p.y(), p.weights(), decode, scales));
        split.add(new Site(p.name() + WIDENED, p.shape(), p.x(), p.y(), new long[] {weights.widenedScratch()}, rows));
      }
      sites = split;
    }
    sites.add(new Site("lm_head", new GemmShape(1, c.vocabSize(), h, c.vocabSize(), false), ws.at(ws.sampled),
        ws.at(ws.logits), new long[] {weights.address(layout.lmHead())}, headRows));
    if (c.isMoe()) {
      // The router's gate GEMM (float32 logits) is timed in the MLP's place; ws.delta has room for
      // them (experts <= hidden).
      int e = c.moe().numExperts();
      long[] router = new long[layers];
      for (int l = 0; l < layers; l++) router[l] = weights.address(layout.layer(l).router());
      sites.add(new Site("router", new GemmShape(1, e, h, e, true), ws.at(ws.normed), ws.at(ws.delta), router,
          rows));
    }
    sites.removeIf(s -> s.rows().isEmpty());
    return sites;
  }

  /**
   * Fills the inputs with noise, times what {@code choices} lacks, and returns the decisions; the
   * caller poisons the workspace again afterwards. {@code cacheFile} may be null (no cache).
   */
  static Outcome tune(Projections projections, KernelModule kernels, CudaStream stream, List<Site> sites,
      GemmTuner.Policy policy, String key, Path cacheFile) {
    GemmChoices choices = null;
    if (cacheFile != null) {
      try {
        choices = GemmChoices.read(cacheFile, key).orElse(null);
      } catch (IOException e) {
        LOG.warn("GEMM choices cache not used: {}", e.getMessage());
      }
    }
    if (choices == null) choices = new GemmChoices(key);
    CublasLtGemms lt = projections.cublasLt();
    long t0 = System.nanoTime();
    int timed = 0;
    boolean filled = false;
    List<GemmShape> shapes = new ArrayList<>();
    for (Site site : sites) {
      for (int rows : site.rows()) {
        GemmShape shape = site.shape().withRows(rows);
        shapes.add(shape);
        if (choices.timed(shape)) continue;
        if (!filled) {
          for (Site s : sites) noise(kernels, stream, s.x(), (long) s.shape().k() * s.rows().get(s.rows().size() - 1));
          filled = true;
        }
        // An FP8 kernel that cannot take this depth or these operands is no candidate: its timing would
        // be another kernel's under its name.
        boolean aligned = WgmmaGemms.aligned(site.x(), site.weights()[0]);
        boolean fp8Runs = shape.k() % 16 == 0 && aligned;
        List<GemmChoice> candidates = site.fp8()
            ? GemmTuner.fp8Candidates(policy, projections.skinny2Fp8() && fp8Runs, projections.wgmmaFp8() && fp8Runs,
                Fp8Gemv.runs(projections.gemvFp8(), rows, shape.k(), aligned),
                Fp8Gemv.mmaRuns(projections.gemvFp8Mma() == GemmTuner.GemvMma.BOTH, rows, shape.n(), shape.k(), aligned),
                projections.skinnyFp8Wgmma() && fp8Runs, rows)
            : GemmTuner.candidates(rows, lt == null ? 0 : lt.algorithms(shape), policy, projections.wgmma(),
                GemmTuner.skinny2InDispatch() && projections.skinny2(),
                projections.gemvBf16() == GemmTuner.GemvBf16.TIMED && Fp8Gemv.bf16Runs(rows, shape.n(), shape.k(),
                    aligned));
        if (site.fp8() && GemmTuner.gemvFp8Only()) candidates = GemmTuner.onlyGemvs(candidates);
        int layers = Math.min(site.weights().length, TIMED_LAYERS);
        choices.put(shape, GemmTuner.fastest(shape, candidates, (s, c) -> graphUs(kernels, stream, layers, rows, l -> {
          if (site.fp8()) {
            projections.runFp8(c, s, site.y(), site.x(), site.weights()[l], site.scales()[l]);
          } else {
            projections.run(c, s, site.y(), site.x(), site.weights()[l]);
          }
        })));
        timed++;
      }
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    if (timed > 0 && cacheFile != null) {
      try {
        choices.write(cacheFile);
      } catch (IOException e) {
        LOG.warn("GEMM choices not cached in {}: {}", cacheFile, e.getMessage());
      }
    }
    // What runs inside the one-row GEMV where it is chosen (FP8 weights), or where it runs (bf16).
    String gemv = sites.stream().anyMatch(Site::fp8) ? projections.gemv().describe(projections.gemvFp8Mma())
        : projections.gemv().describeBf16();
    return new Outcome(choices, shapes, timed, millis, cacheFile == null ? "" : cacheFile.toString(), gemv);
  }

  /** Layers a timed candidate runs in turn: 8 projections' weights are far more than L2 holds. */
  static final int TIMED_LAYERS = 8;

  /**
   * Device µs of {@code project(l)} for layers 0 .. layers - 1, a median over replays of one CUDA graph holding them
   * all, divided by {@code layers}. They run once outside the graph first (tensor maps encoded, libraries' first
   * calls made). A launch timed alone between two events also times its host's enqueueing where the device waits
   * for it, which for our launches (parameters packed, maps looked up) was several times the kernel on the small
   * FP8 shapes; a graph replay has no host part, as in the decode step's graphs. The launches are made in the mode
   * of a step of {@code rows} decode rows (programmatic dependent launch at few rows), so a kernel that fetches its
   * weights before it waits for the launch in front is timed as the step runs it.
   */
  static double graphUs(KernelModule kernels, CudaStream stream, int layers, int rows, IntConsumer project) {
    Runnable all = () -> {
      for (int l = 0; l < layers; l++) project.accept(l);
    };
    kernels.forStep(rows);
    try {
      all.run();
      stream.synchronize("GEMM timing, first run");
      try (CudaGraph graph = CudaGraph.captureOnThisThread(stream, all)) {
        return EventTimer.median(EventTimer.timeUs(stream, WARMUP, REPS, () -> graph.launch(stream))) / layers;
      }
    } finally {
      kernels.outsideSteps();
    }
  }

  /**
   * What the cached decisions hold for: the device, the driver, cuBLASLt, our kernels' build, the policy and how they
   * were timed (choices timed as single launches are not reused).
   */
  static String key(String device, GemmTuner.Policy policy) {
    return device + ", driver " + CudaDriver.version() + ", " + CublasLtGemms.describe() + ", kernels "
        + sha256(Fatbin.bytes()).substring(0, 16) + ", gemm " + policy.label() + ", timed as graphs";
  }

  /** {@code $DECODEFLEET_CACHE_DIR/gemm-<hash of key>.tsv}, else under {@code ~/.cache/decodefleet}; null when "off". */
  static Path cacheFile(String key) {
    String dir = System.getenv(CACHE_ENV);
    if (dir != null && dir.strip().equals("off")) return null;
    Path base = dir != null && !dir.isBlank() ? Path.of(dir.strip())
        : Path.of(System.getProperty("user.home"), ".cache", "decodefleet");
    return base.resolve("gemm-" + sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 16) + ".tsv");
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  static void noise(KernelModule kernels, CudaStream stream, long address, long elements) {
    List<long[]> pieces = new ArrayList<>();
    for (long first = 0; first < elements; first += FillParams.MAX_N) {
      pieces.add(new long[] {first, Math.min(FillParams.MAX_N, elements - first)});
    }
    for (long[] p : pieces) {
      FillParams f = new FillParams(address + 2 * p[0], (int) p[1], 29, 1f);
      kernels.launch(Kernel.FILL_UNIFORM, f.launch(), f, stream);
    }
    stream.synchronize("filling GEMM timing inputs");
  }
}
