package io.decodefleet.coordinator.workload;

import java.util.random.RandomGenerator;

/**
 * Samples of the gamma distribution Γ(shape k, scale θ): mean kθ, variance kθ².
 *
 * <p>Marsaglia and Tsang, "A Simple Method for Generating Gamma Variables" (ACM TOMS 26(3), 2000):
 * for k ≥ 1 a squeezed rejection from a transformed normal, accepting about 95–99% of tries; for
 * k &lt; 1 the boost Γ(k) = Γ(k+1) · U^(1/k) from the same paper.
 */
final class GammaDistribution {
  private GammaDistribution() {}

  /** One sample; {@code shape} and {@code scale} must be finite and > 0 (checked by callers). */
  static double sample(double shape, double scale, RandomGenerator rng) {
    if (shape < 1.0) {
      // U in (0, 1]: U = 0 would give an exact 0, which Γ(k) never does.
      double u = 1.0 - rng.nextDouble();
      return sample(shape + 1.0, scale, rng) * Math.pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / Math.sqrt(9.0 * d);
    while (true) {
      double x = rng.nextGaussian();
      double v = 1.0 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      double u = 1.0 - rng.nextDouble();
      double x2 = x * x;
      if (u < 1.0 - 0.0331 * x2 * x2) return d * v * scale;
      if (Math.log(u) < 0.5 * x2 + d * (1.0 - v + Math.log(v))) return d * v * scale;
    }
  }
}
