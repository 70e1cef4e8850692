package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.kernels.cuda.ArgmaxParams;
import io.decodefleet.kernels.cuda.Bf16;
import io.decodefleet.kernels.cuda.EmbeddingParams;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.KvPackParams;
import io.decodefleet.kernels.cuda.PagedKvTransfer;
import io.decodefleet.kernels.cuda.RmsNormParams;
import io.decodefleet.kernels.cuda.SwiGluParams;
import io.decodefleet.kernels.reference.Argmax;
import io.decodefleet.kernels.reference.Embedding;
import io.decodefleet.kernels.reference.RmsNorm;
import io.decodefleet.kernels.reference.SwiGlu;
import java.util.Arrays;

/** Embedding, RMSNorm, SwiGLU, argmax and KV pack/unpack against their CPU references. */
final class ElementwiseChecks {

  private ElementwiseChecks() {}

  /** Gathers {@code n} rows; one token is out of range and must come back as a NaN row. */
  static CheckResult embedding(DeviceHarness h, int n, int vocab, int hidden) {
    float[] table = h.randomBf16(vocab * hidden, 1.0);
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = h.random().nextInt(vocab);
    }
    int bad = n > 1 ? n / 2 : -1;
    float[] expected = new float[n * hidden];
    Embedding.gather(table, vocab, hidden, tokens, n, expected);
    if (bad >= 0) {
      tokens[bad] = vocab; // the kernel's contract: a NaN row, not a neighbour's
      Arrays.fill(expected, bad * hidden, (bad + 1) * hidden, Float.NaN);
    }
    DeviceBuffer dTable = h.bf16(table);
    DeviceBuffer dTokens = h.ints(tokens);
    DeviceBuffer out = h.poisonedBf16((long) n * hidden);
    EmbeddingParams p = new EmbeddingParams(out.address(), dTable.address(), dTokens.address(), n,
        hidden, vocab);
    Runnable run = () -> h.launch(Kernel.EMBEDDING, p.launch(), p);
    run.run();
    float[] got = h.readBf16(out, n * hidden);
    double err = Compare.relError(got, expected);
    if (bad >= 0 && !allNaN(got, bad * hidden, (bad + 1) * hidden)) {
      err = Double.NaN;
    }
    double us = h.medianUs(run);
    return h.result("embedding", "n=" + n + " vocab=" + vocab + " hidden=" + hidden, err,
        Compare.EXACT, us, 2.0 * 2 * n * hidden + 4.0 * n, 0);
  }

  /** {@code residual += x; out = rmsnorm(residual)}, or the plain norm. */
  static CheckResult rmsNorm(DeviceHarness h, int rows, int hidden, boolean fused) {
    return rmsNorm(h, rows, hidden, fused, false);
  }

  /**
   * @param xFloat x lives on the device as float32 (a tensor-parallel rank's all-reduced partial
   *     sums; the kernel rounds it to bf16 as it reads it, so the bf16 reference applies unchanged)
   */
  static CheckResult rmsNorm(DeviceHarness h, int rows, int hidden, boolean fused, boolean xFloat) {
    float eps = 1e-5f;
    float[] x = h.randomBf16(rows * hidden, 1.0);
    float[] residual = h.randomBf16(rows * hidden, 1.0);
    float[] weight = h.randomBf16(hidden, 0.5);
    for (int i = 0; i < hidden; i++) {
      weight[i] = Bf16.round(1f + weight[i]);
    }
    float[] expected = new float[rows * hidden];
    float[] expectedResidual = residual.clone();
    if (fused) {
      RmsNorm.addResidualAndNorm(x, expectedResidual, weight, eps, rows, hidden, expected);
    } else {
      RmsNorm.forward(x, weight, eps, rows, hidden, expected);
    }
    DeviceBuffer dx = xFloat ? h.f32(unrounded(x)) : h.bf16(x);
    DeviceBuffer dRes = h.bf16(residual);
    DeviceBuffer dW = h.bf16(weight);
    DeviceBuffer out = h.poisonedBf16((long) rows * hidden);
    RmsNormParams p = new RmsNormParams(out.address(), fused ? dRes.address() : 0, dx.address(),
        dW.address(), rows, hidden, eps, xFloat ? 1 : 0);
    h.launch(Kernel.RMSNORM, p.launch(), p);
    double err = Compare.relError(h.readBf16(out, rows * hidden), expected);
    if (fused) {
      err = Compare.worst(err, Compare.relError(h.readBf16(dRes, rows * hidden), expectedResidual));
    }
    // Timing re-runs the fused kernel on its own output; the data changes, the work does not.
    double us = h.medianUs(() -> h.launch(Kernel.RMSNORM, p.launch(), p));
    double bytes = 2.0 * rows * hidden * (fused ? 4 : 2) + 2.0 * hidden;
    return h.result((fused ? "rmsnorm+residual" : "rmsnorm") + (xFloat ? ", f32 x" : ""),
        "rows=" + rows + " hidden=" + hidden,
        err, Compare.BF16, us, bytes, 4.0 * rows * hidden);
  }

  /** Values a quarter of a bf16 ulp above bf16 values: they round (to nearest) back to them. */
  private static float[] unrounded(float[] bf16Values) {
    float[] out = new float[bf16Values.length];
    for (int i = 0; i < out.length; i++) out[i] = bf16Values[i] * (1f + 1f / 1024);
    return out;
  }

  /** {@code out = silu(gate) * up} on a fused (rows, 2 * cols) gate_up buffer. */
  static CheckResult swiGlu(DeviceHarness h, int rows, int cols) {
    return swiGlu(h, rows, cols, false);
  }

  /**
   * With {@code codes} (fp8-dynamic's SwiGLU in front of down) the kernel also writes each row's e4m3 codes and
   * scale, one CTA a row: every code and scale must equal {@code Fp8E4m3.quantizeRows}'s of the row it wrote (a
   * mismatch fails the row); row 1's gate is all zeros where rows > 2, a row whose scale must be 1.
   */
  static CheckResult swiGlu(DeviceHarness h, int rows, int cols, boolean codes) {
    float[] gateUp = h.randomBf16(rows * 2 * cols, 2.0);
    if (codes && rows > 2) Arrays.fill(gateUp, 2 * cols, 3 * cols, 0f);
    float[] expected = new float[rows * cols];
    float[] gate = new float[cols];
    float[] up = new float[cols];
    float[] row = new float[cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(gateUp, r * 2 * cols, gate, 0, cols);
      System.arraycopy(gateUp, r * 2 * cols + cols, up, 0, cols);
      SwiGlu.forward(gate, up, cols, row);
      System.arraycopy(row, 0, expected, r * cols, cols);
    }
    DeviceBuffer in = h.bf16(gateUp);
    DeviceBuffer out = h.poisonedBf16((long) rows * cols);
    DeviceBuffer codeBytes = codes ? h.track(h.context().allocate((long) rows * cols)) : null;
    DeviceBuffer scales = codes ? h.poisonedF32(rows) : null;
    SwiGluParams plain = new SwiGluParams(out.address(), in.address(), in.address(2L * cols), rows,
        cols, 2 * cols, cols);
    SwiGluParams p = codes ? plain.withCodes(codeBytes.address(), scales.address()) : plain;
    Runnable run = () -> h.launch(Kernel.SWIGLU, p.launch(), p);
    run.run();
    float[] got = h.readBf16(out, rows * cols);
    double err = Compare.relError(got, expected);
    String detail = "rows=" + rows + " cols=" + cols;
    if (codes) {
      int mismatched = Fp8DynamicChecks.mismatches(got, Fp8CacheChecks.readBytes(h, codeBytes, rows * cols),
          h.readF32(scales, rows), rows, cols);
      detail += ", " + mismatched + " codes or scales off the CPU's";
      if (mismatched > 0) err = Math.max(err, 1.0);
    }
    double us = h.medianUs(run);
    return h.result(codes ? "swiglu, fp8 codes" : "swiglu", detail, err, Compare.BF16, us,
        2.0 * rows * cols * 3 + (codes ? rows * (cols + 4.0) : 0), 4.0 * rows * cols);
  }


  /** Greedy token per row, with a planted tie, a planted NaN and an all-NaN row when rows > 2. */
  static CheckResult argmax(DeviceHarness h, int rows, int vocab) {
    float[] logits = h.randomBf16(rows * vocab, 3.0);
    if (rows > 2) {
      int a = h.random().nextInt(vocab);
      int b = h.random().nextInt(vocab);
      logits[a] = 100f;
      logits[b] = 100f; // a tie: the lower index must win
      logits[vocab + h.random().nextInt(vocab)] = Float.NaN;
      Arrays.fill(logits, 2 * vocab, 3 * vocab, Float.NaN); // all NaN: -1
    }
    int[] expected = new int[rows];
    for (int r = 0; r < rows; r++) {
      expected[r] = Argmax.argmax(logits, r * vocab, vocab);
    }
    DeviceBuffer dLogits = h.bf16(logits);
    DeviceBuffer out = h.poisonedInts(rows);
    ArgmaxParams p = new ArgmaxParams(out.address(), dLogits.address(), rows, vocab, vocab);
    Runnable run = () -> h.launch(Kernel.ARGMAX, p.launch(), p);
    run.run();
    int[] got = h.readInts(out, rows);
    int wrong = 0;
    for (int r = 0; r < rows; r++) {
      wrong += got[r] == expected[r] ? 0 : 1;
    }
    double us = h.medianUs(run);
    return h.result("argmax", "rows=" + rows + " vocab=" + vocab, wrong == 0 ? 0 : Double.NaN,
        Compare.EXACT, us, 2.0 * rows * vocab + 4.0 * rows, 0);
  }

  /** Packs a sequence's pages, checks the buffer, then unpacks it into other caches. */
  static CheckResult kvPack(DeviceHarness h, int numBlocks, int pages, int pageElems) {
    float[] k = h.randomBf16(numBlocks * pageElems, 1.0);
    float[] v = h.randomBf16(numBlocks * pageElems, 1.0);
    int[] order = new int[numBlocks];
    for (int i = 0; i < numBlocks; i++) {
      order[i] = i;
    }
    for (int i = numBlocks - 1; i > 0; i--) {
      int j = h.random().nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] table = Arrays.copyOf(order, pages);
    float[] expectedPacked = new float[2 * pages * pageElems];
    PagedKvTransfer.pack(k, v, table, pages, pageElems, expectedPacked);
    float[] k2 = h.randomBf16(numBlocks * pageElems, 1.0);
    float[] v2 = h.randomBf16(numBlocks * pageElems, 1.0);
    float[] expectedK2 = k2.clone();
    float[] expectedV2 = v2.clone();
    PagedKvTransfer.unpack(expectedPacked, table, pages, pageElems, expectedK2, expectedV2);

    DeviceBuffer dk = h.bf16(k);
    DeviceBuffer dv = h.bf16(v);
    DeviceBuffer dTable = h.ints(table);
    DeviceBuffer packed = h.poisonedBf16(2L * pages * pageElems);
    DeviceBuffer dk2 = h.bf16(k2);
    DeviceBuffer dv2 = h.bf16(v2);
    KvPackParams pack = new KvPackParams(packed.address(), dk.address(), dv.address(),
        dTable.address(), pages, pageElems);
    KvPackParams unpack = new KvPackParams(packed.address(), dk2.address(), dv2.address(),
        dTable.address(), pages, pageElems);
    h.launch(Kernel.KV_PACK, pack.launch(Kernel.KV_PACK), pack);
    double err = Compare.relError(h.readBf16(packed, 2 * pages * pageElems), expectedPacked);
    h.launch(Kernel.KV_UNPACK, unpack.launch(Kernel.KV_UNPACK), unpack);
    err = Compare.worst(err, Compare.relError(h.readBf16(dk2, numBlocks * pageElems), expectedK2));
    err = Compare.worst(err, Compare.relError(h.readBf16(dv2, numBlocks * pageElems), expectedV2));
    double us = h.medianUs(() -> h.launch(Kernel.KV_PACK, pack.launch(Kernel.KV_PACK), pack));
    return h.result("kv pack/unpack", "pages=" + pages + "/" + numBlocks + " page=" + pageElems,
        err, Compare.EXACT, us, 2.0 * 2 * 2 * pages * pageElems, 0);
  }

  private static boolean allNaN(float[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!Float.isNaN(a[i])) {
        return false;
      }
    }
    return true;
  }
}
