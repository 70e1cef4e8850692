package io.decodefleet.kernels.reference;

/**
 * The chi-square distribution's upper tail, P(X ≥ x) for df degrees of freedom, as the regularized
 * upper incomplete gamma function Q(df / 2, x / 2): a series below a + 1, Lentz's continued
 * fraction above (Numerical Recipes, 6.2), relative error well under 1e-10 for the df the tests use.
 */
final class ChiSquare {

  private ChiSquare() {}

  /** P(X ≥ x) for X ~ chi-square(df). */
  static double survival(double x, int df) {
    if (x <= 0) {
      return 1.0;
    }
    return upperRegularizedGamma(df / 2.0, x / 2.0);
  }

  static double upperRegularizedGamma(double a, double x) {
    if (x < a + 1) {
      return 1.0 - lowerSeries(a, x);
    }
    return upperContinuedFraction(a, x);
  }

  private static double lowerSeries(double a, double x) {
    double term = 1.0 / a;
    double sum = term;
    for (int n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) {
        break;
      }
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }

  private static double upperContinuedFraction(double a, double x) {
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 1000; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      d = Math.abs(d) < tiny ? tiny : d;
      c = b + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }

  /** ln Γ(a) for a > 0 (Lanczos, g = 7, n = 9). */
  static double logGamma(double a) {
    double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7};
    if (a < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * a))) - logGamma(1 - a);
    }
    a -= 1;
    double sum = c[0];
    double t = a + 7.5;
    for (int i = 1; i < 9; i++) {
      sum += c[i] / (a + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (a + 0.5) * Math.log(t) - t + Math.log(sum);
  }
}
