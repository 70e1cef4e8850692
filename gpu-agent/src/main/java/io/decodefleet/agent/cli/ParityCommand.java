package io.decodefleet.agent.cli;

import io.decodefleet.agent.backend.cuda.CudaSettings;
import io.decodefleet.agent.backend.cuda.DecodePath;
import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.gemm.GemmTuner;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.agent.engine.MoeRouterPolicy;
import io.decodefleet.agent.tools.parity.ParityCheck;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent parity}: the CUDA backend against the CPU backend on the same model, seed and
 * prompts, on every decode path. Exit 0 when every path passes, 1 when one fails, 2 on bad
 * arguments, 3 when there is no GPU.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
    description = {"Runs the same prompts through the CPU backend (float32) and the CUDA backend (bf16) on each"
        + " decode path and compares every step's logits (relative L2 error) and greedy tokens, the device"
        + " argmax and the dense oracle.",
        "The CPU reference of llama3-8b-2l holds about 6 GB of float32 weights: run with JAVA_OPTS=-Xmx16g."})
public final class ParityCommand implements Callable<Integer> {

  @Option(names = "--model", split = ",", defaultValue = "tiny,llama3-8b-2l",
      description = "Model presets to check (default: ${DEFAULT-VALUE}).")
  private List<String> models;

  @Option(names = "--decode-paths", split = ",", defaultValue = "eager,graph,persistent,persistent+graph",
      description = "Decode paths to check (default: ${DEFAULT-VALUE}).")
  private List<String> paths;

  @Option(names = "--gpu", defaultValue = "0", description = "GPU to check (default: ${DEFAULT-VALUE}).")
  private int gpu;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of weights and prompts (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(names = "--sequences", defaultValue = "4", description = "Prompts, 1..4 (default: ${DEFAULT-VALUE}).")
  private int sequences;

  @Option(names = "--steps", defaultValue = "32",
      description = "Tokens each sequence generates (default: ${DEFAULT-VALUE}).")
  private int steps;

  @Option(names = "--tolerance", description = "Largest relative L2 error of a logits row (default: "
      + ParityCheck.DEFAULT_TOLERANCE + ", or " + ParityCheck.FP8_KV_TOLERANCE + " over an FP8 KV cache, "
      + ParityCheck.FP8_DYNAMIC_TOLERANCE + " under --quantization fp8-dynamic).")
  private Double tolerance;

  @Option(names = "--attention", defaultValue = "auto",
      description = "auto (tensor-core kernels where they fit) or paged (the plain kernel everywhere; default:"
          + " ${DEFAULT-VALUE}).")
  private String attention;

  @Option(names = "--gemm", defaultValue = "auto",
      description = "GEMMs of the projections: auto (the fastest of ours and cuBLASLt per shape), ours, cublaslt"
          + " or skinny2 (our second skinny GEMM wherever it applies) (default: ${DEFAULT-VALUE}); pins each choice"
          + " of the dispatch against the CPU backend.")
  private String gemm;

  @Option(names = "--quantization", defaultValue = "none",
      description = "none, fp8 or fp8-dynamic: both backends quantize the projections to FP8 e4m3 with per-tensor"
          + " scales (fp8-dynamic: their activations too, per token), and the CUDA backend runs its FP8 GEMMs against"
          + " the CPU backend's FP8 reference (default: ${DEFAULT-VALUE}).")
  private String quantization;

  @Option(names = "--kv-cache-dtype", defaultValue = "auto",
      description = "auto or fp8: both backends store K/V as FP8 e4m3 (default: ${DEFAULT-VALUE}).")
  private String kvCacheDtype;

  @Option(names = "--moe-router", defaultValue = "topk",
      description = "A mixture of experts' routing on both backends: topk or capacity:F (default: ${DEFAULT-VALUE});"
          + " dense models ignore it.")
  private String moeRouter;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
  private Path outFile;

  /** Where the command prints: {@code System.out} as it was when picocli made the command. */
  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    List<DecodePath> chosen = new ArrayList<>();
    CudaSettings settings;
    Fp8Options fp8;
    MoeRouterPolicy router;
    try {
      try {
        router = MoeRouterPolicy.parse(moeRouter);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--moe-router " + e.getMessage());
      }
      for (String p : paths) {
        chosen.add(DecodePath.parse(p));
      }
      for (String m : models) {
        ModelConfig.preset(m);
      }
      if (!attention.equals("auto") && !attention.equals("paged")) {
        throw new IllegalArgumentException("--attention must be auto or paged, got '" + attention + "'");
      }
      settings = CudaSettings.defaults().withAttention(
          CudaSettings.AttentionKernels.valueOf(attention.toUpperCase(Locale.ROOT)))
          .withGemm(GemmTuner.Policy.parse(gemm));
      fp8 = Fp8Options.parse(quantization, kvCacheDtype);
      if (tolerance == null) tolerance = ParityCheck.defaultTolerance(fp8.quantization(), fp8.kvCacheDtype());
      if (sequences < 1 || sequences > 4 || steps < 1 || !(tolerance > 0)) {
        throw new IllegalArgumentException("--sequences must be 1..4, --steps >= 1 and --tolerance > 0");
      }
    } catch (IllegalArgumentException e) {
      out.println("gpu-agent parity: " + e.getMessage());
      return 2;
    }
    DevicePreflight preflight = DevicePreflight.check("gpu-agent parity", out, gpu);
    if (preflight.gpu() == null) return preflight.exitCode();
    GpuInfo info = preflight.gpu();
    List<ParityCheck.Report> reports = new ArrayList<>();
    boolean passed = true;
    for (String model : models) {
      try {
        ParityCheck.Report r = ParityCheck.run(info, new ParityCheck.Options(ModelConfig.preset(model), seed,
            sequences, steps, chosen, settings, tolerance, fp8.quantization(), fp8.kvCacheDtype(), router), out);
        reports.add(r);
        passed &= r.passed();
      } catch (OutOfMemoryError e) {
        out.println("gpu-agent parity: " + model + ": the CPU reference ran out of Java heap (" + e.getMessage()
            + "); give it more, e.g. JAVA_OPTS=-Xmx16g");
        passed = false;
      }
      out.println();
    }
    out.println("parity: " + (passed ? "PASS" : "FAIL"));
    if (outFile != null) {
      ResultFile.write(outFile, json(info, reports));
      out.println("wrote " + outFile);
    }
    return passed ? 0 : 1;
  }

  static String json(GpuInfo gpu, List<ParityCheck.Report> reports) {
    StringBuilder sb = new StringBuilder("{\n  \"device\": \"").append(esc(gpu.summary())).append("\",\n");
    sb.append("  \"date\": \"").append(java.time.Instant.now()).append("\",\n  \"models\": [\n");
    for (int m = 0; m < reports.size(); m++) {
      ParityCheck.Report r = reports.get(m);
      sb.append("    {\"model\": \"").append(r.model()).append("\", \"passed\": ").append(r.passed())
          .append(", \"paths\": [\n");
      for (int i = 0; i < r.results().size(); i++) {
        ParityCheck.PathResult p = r.results().get(i);
        sb.append(String.format(Locale.ROOT, "      {\"path\": \"%s\", \"steps\": %d, \"rows\": %d,"
                + " \"max_rel_error\": %s, \"argmax_agreement\": %s, \"tokens_same\": %d, \"tokens_near_tie\": %d, \"tokens_differ\": %d,"
                + " \"dense_rel_error\": %s, \"steps_by_path\": \"%s\", \"failure\": \"%s\"}%s%n",
            p.path().label(), p.steps(), p.rows(), num(p.maxRelError()), num(p.argmaxAgreement()), p.exactTokens(), p.nearTies(),
            p.mismatches(), num(p.denseRelError()), esc(p.stepsByPath().toString()), esc(p.failure()),
            i + 1 < r.results().size() ? "," : ""));
      }
      sb.append("    ]}").append(m + 1 < reports.size() ? ",\n" : "\n");
    }
    return sb.append("  ]\n}\n").toString();
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4e", v) : "null";
  }

  private static String esc(String s) {
    return s.replace("\\", "\\\\").replace("\"", "'");
  }
}
