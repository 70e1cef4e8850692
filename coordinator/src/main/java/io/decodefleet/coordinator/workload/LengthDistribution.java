package io.decodefleet.coordinator.workload;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.random.RandomGenerator;

/**
 * A distribution of token counts (prompt or output lengths). Every sample is at least 1 token.
 *
 * <p>Written on the command line as {@code N} (fixed), {@code MIN:MAX} (uniform, inclusive) or
 * {@code lognormal:MEAN:SIGMA}; {@link #toString()} gives back that form.
 */
public sealed interface LengthDistribution {

  /** The accepted textual forms, for error messages. */
  String FORMS = "N, MIN:MAX or lognormal:MEAN:SIGMA";

  /** Draws one length in tokens (at least 1). */
  int sample(RandomGenerator rng);

  /** The distribution's mean in tokens. */
  double mean();

  /** The longest length it can draw, or empty when it has no bound (the log-normal's tail). */
  OptionalInt longest();

  /** Always {@code n} tokens. */
  record Fixed(int n) implements LengthDistribution {
    public Fixed {
      if (n < 1) throw new IllegalArgumentException("length must be >= 1, got " + n);
    }

    @Override
    public int sample(RandomGenerator rng) {
      return n;
    }

    @Override
    public double mean() {
      return n;
    }

    @Override
    public OptionalInt longest() {
      return OptionalInt.of(n);
    }

    @Override
    public String toString() {
      return Integer.toString(n);
    }
  }

  /** Uniform over the integers {@code min..max}, both inclusive. */
  record Uniform(int min, int max) implements LengthDistribution {
    public Uniform {
      if (min < 1) throw new IllegalArgumentException("length must be >= 1, got " + min);
      if (max < min) throw new IllegalArgumentException("range " + min + ":" + max + " is empty");
    }

    @Override
    public int sample(RandomGenerator rng) {
      // min >= 1, so max - min + 1 cannot overflow.
      return min + rng.nextInt(max - min + 1);
    }

    @Override
    public double mean() {
      return (min + (double) max) / 2.0;
    }

    @Override
    public OptionalInt longest() {
      return OptionalInt.of(max);
    }

    @Override
    public String toString() {
      return min + ":" + max;
    }
  }

  /**
   * Log-normal lengths, the usual shape of real prompt and answer lengths (long right tail).
   *
   * <p>{@code mean} is the mean of the lengths themselves, in tokens; {@code sigma} is the standard
   * deviation of the underlying normal (of ln length). A sample is {@code round(exp(mu + sigma*Z))}
   * with {@code mu = ln(mean) - sigma^2/2}, so that E[exp(mu + sigma*Z)] = mean; it is then raised to
   * at least 1 (and capped at {@code Integer.MAX_VALUE}), which moves the mean only when it is a few
   * tokens.
   */
  record LogNormal(double mean, double sigma) implements LengthDistribution {
    public LogNormal {
      if (!(mean > 0) || !Double.isFinite(mean)) {
        throw new IllegalArgumentException("lognormal mean must be a finite number > 0, got " + mean);
      }
      if (!(sigma >= 0) || !Double.isFinite(sigma)) {
        throw new IllegalArgumentException("lognormal sigma must be a finite number >= 0, got " + sigma);
      }
    }

    /** The mean of the underlying normal: ln(mean) - sigma^2/2. */
    public double mu() {
      return Math.log(mean) - sigma * sigma / 2.0;
    }

    @Override
    public int sample(RandomGenerator rng) {
      long n = Math.round(Math.exp(mu() + sigma * rng.nextGaussian()));
      return (int) Math.max(1, Math.min(n, Integer.MAX_VALUE));
    }

    @Override
    public OptionalInt longest() {
      return OptionalInt.empty();
    }

    @Override
    public String toString() {
      return "lognormal:" + plain(mean) + ":" + plain(sigma);
    }
  }

  /**
   * Parses {@code "128"}, {@code "32:256"} or {@code "lognormal:200:0.8"} (surrounding blanks and
   * the case of "lognormal" do not matter).
   *
   * @throws IllegalArgumentException with one line naming {@code text} and the accepted forms
   */
  static LengthDistribution parse(String text) {
    String t = text.trim();
    String[] parts = t.split(":", -1);
    try {
      if (parts.length == 1) {
        return new Fixed(Integer.parseInt(parts[0].trim()));
      }
      if (parts.length == 2) {
        return new Uniform(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
      }
      if (parts.length == 3 && parts[0].trim().toLowerCase(Locale.ROOT).equals("lognormal")) {
        return new LogNormal(Double.parseDouble(parts[1].trim()), Double.parseDouble(parts[2].trim()));
      }
    } catch (NumberFormatException e) {
      // falls through to the message naming the accepted forms
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a length distribution (" + e.getMessage() + "); expected " + FORMS);
    }
    throw new IllegalArgumentException("'" + text + "' is not a length distribution; expected " + FORMS);
  }

  /** 200.0 → "200", 0.8 → "0.8": short, and parses back to the same double. */
  private static String plain(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
