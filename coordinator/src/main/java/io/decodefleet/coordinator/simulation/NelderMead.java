package io.decodefleet.coordinator.simulation;

import java.util.Arrays;
import java.util.Comparator;
import java.util.function.ToDoubleFunction;

/**
 * The Nelder–Mead simplex search for a minimum of a function of a few variables that need not be smooth
 * (the standard reflection 1, expansion 2, contraction ½ and shrink ½). Used where the function is a
 * simulation whose output moves in steps with its inputs.
 */
final class NelderMead {
  private NelderMead() {}

  /**
   * A point where {@code f} is smallest of those the search visited.
   *
   * @param start the first vertex; the others are it moved by {@code step} along each axis
   * @param maxEvaluations how many times {@code f} may be evaluated (the search stops there or when the
   *     simplex's values agree to 1e-9)
   */
  static double[] minimise(ToDoubleFunction<double[]> f, double[] start, double step, int maxEvaluations) {
    int n = start.length;
    double[][] pts = new double[n + 1][];
    double[] val = new double[n + 1];
    for (int i = 0; i <= n; i++) {
      pts[i] = start.clone();
      if (i > 0) pts[i][i - 1] += step;
      val[i] = f.applyAsDouble(pts[i]);
    }
    int evals = n + 1;
    Integer[] order = new Integer[n + 1];
    while (evals < maxEvaluations) {
      for (int i = 0; i <= n; i++) order[i] = i;
      final double[] v = val;
      Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
      int best = order[0];
      int worst = order[n];
      int second = order[n - 1];
      if (Math.abs(val[worst] - val[best]) <= 1e-9 * (1 + Math.abs(val[best]))) break;
      double[] centroid = new double[n];
      for (int i = 0; i <= n; i++) {
        if (i == worst) continue;
        for (int d = 0; d < n; d++) centroid[d] += pts[i][d] / n;
      }
      double[] reflected = along(centroid, pts[worst], -1);
      double fr = f.applyAsDouble(reflected);
      evals++;
      if (fr < val[best]) {
        double[] expanded = along(centroid, pts[worst], -2);
        double fe = f.applyAsDouble(expanded);
        evals++;
        if (fe < fr) {
          pts[worst] = expanded;
          val[worst] = fe;
        } else {
          pts[worst] = reflected;
          val[worst] = fr;
        }
      } else if (fr < val[second]) {
        pts[worst] = reflected;
        val[worst] = fr;
      } else {
        boolean outside = fr < val[worst];
        double[] contracted = along(centroid, outside ? reflected : pts[worst], 0.5);
        double fc = f.applyAsDouble(contracted);
        evals++;
        if (fc < Math.min(fr, val[worst])) {
          pts[worst] = contracted;
          val[worst] = fc;
        } else {
          for (int i = 0; i <= n; i++) {
            if (i == best) continue;
            pts[i] = along(pts[best], pts[i], 0.5);
            val[i] = f.applyAsDouble(pts[i]);
            evals++;
          }
        }
      }
    }
    int best = 0;
    for (int i = 1; i <= n; i++) if (val[i] < val[best]) best = i;
    return pts[best];
  }

  /** {@code from + t × (to − from)}. */
  private static double[] along(double[] from, double[] to, double t) {
    double[] p = new double[from.length];
    for (int d = 0; d < p.length; d++) p[d] = from[d] + t * (to[d] - from[d]);
    return p;
  }
}
