package io.decodefleet.agent.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

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
    MessageDigest d = sha256();
    ByteBuffer b = ByteBuffer.allocate(8 + 4 * count).putLong(parent);
    for (int i = from; i < from + count; i++) b.putInt(tokens[i]);
    d.update(b.array());
    return ByteBuffer.wrap(d.digest()).getLong();
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
