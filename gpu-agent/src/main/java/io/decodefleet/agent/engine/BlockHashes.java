package io.decodefleet.agent.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.IntUnaryOperator;

/**
 * The content hash of a full KV block, as prefix caching keys it: SHA-256 over the previous
 * block's hash (the chain makes a block's hash stand for every token before it too) and the block's
 * token ids, truncated to 64 bits. The chain starts from a salt of the model and its weights, so two
 * models never share a block. The coordinator computes the same chain for a request's prompt to find
 * which agent holds how much of it. At 64 bits, a collision among a million cached blocks has a
 * probability near 3e-8.
 */
public final class BlockHashes {

  private BlockHashes() {}

  /** The chain's start for a model: its preset name and weight seed. */
  public static long salt(ModelSpec spec) {
    MessageDigest d = sha256();
    d.update(spec.model().getBytes(StandardCharsets.UTF_8));
    d.update(ByteBuffer.allocate(8).putLong(spec.seed()).array());
    return ByteBuffer.wrap(d.digest()).getLong();
  }

  /** The hash of the block of tokens {@code tokens[from, from + count)} after a block hashed {@code parent}. */
  public static long next(long parent, int[] tokens, int from, int count) {
    return next(parent, i -> tokens[i], from, count);
  }

  /**
   * The hash of the block of tokens {@code tokenAt(from) .. tokenAt(from + count - 1)} after a block
   * hashed {@code parent}: the parent's 8 bytes then each token's 4, big-endian, through SHA-256, whose
   * first 8 bytes, big-endian, are the hash. Each thread keeps its digest and buffers, so hashing a
   * block (a decode step fills one a sequence every block-size tokens) allocates nothing.
   */
  public static long next(long parent, IntUnaryOperator tokenAt, int from, int count) {
    Hasher h = HASHER.get();
    ByteBuffer b = h.input(8 + 4 * count).putLong(parent);
    for (int i = from; i < from + count; i++) b.putInt(tokenAt.applyAsInt(i));
    h.digest.update(b.array(), 0, b.position());
    try {
      h.digest.digest(h.output.array(), 0, h.output.capacity());
    } catch (java.security.DigestException e) {
      throw new IllegalStateException("SHA-256 into a 32-byte buffer", e);
    }
    return h.output.getLong(0);
  }

  private static final ThreadLocal<Hasher> HASHER = ThreadLocal.withInitial(Hasher::new);

  /** A thread's SHA-256 digest, its input buffer (grown to the largest block) and its 32-byte output. */
  private static final class Hasher {
    final MessageDigest digest = sha256();
    final ByteBuffer output = ByteBuffer.allocate(32);
    private ByteBuffer input = ByteBuffer.allocate(8 + 4 * 16);

    ByteBuffer input(int bytes) {
      if (input.capacity() < bytes) input = ByteBuffer.allocate(bytes);
      return input.clear();
    }
  }

  /** The hashes of the first {@code numBlocks} full blocks of {@code tokens}, in order. */
  public static long[] chain(long salt, int[] tokens, int blockSize, int numBlocks) {
    if ((long) numBlocks * blockSize > tokens.length) {
      throw new IllegalArgumentException(numBlocks + " blocks of " + blockSize + " need more than " + tokens.length
          + " tokens");
    }
    long[] out = new long[numBlocks];
    long parent = salt;
    for (int i = 0; i < numBlocks; i++) {
      parent = next(parent, tokens, i * blockSize, blockSize);
      out[i] = parent;
    }
    return out;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }
}
