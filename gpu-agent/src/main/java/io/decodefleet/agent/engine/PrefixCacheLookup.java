package io.decodefleet.agent.engine;

import java.util.List;

/**
 * The scheduler's side of prefix caching: where a sequence finds its cached prefix, and where its
 * computed full blocks are registered under their content hashes ({@link BlockHashes}). Owned by the
 * engine thread.
 */
final class PrefixCacheLookup {
  private final KvBlockManager blocks;
  /** The chain's start of every block hash: the model and its weights. */
  private final long hashSalt;

  PrefixCacheLookup(KvBlockManager blocks, long hashSalt) {
    this.blocks = blocks;
    this.hashSalt = hashSalt;
  }

  /**
   * A fresh (or recomputed) sequence starts from the longest run of cached full blocks of its
   * tokens, at most up to its last token (which must be computed to sample). Returns the tokens
   * adopted (0 on a miss), or -1 when the sequence was not looked up (no prefix caching, or it
   * already has KV: received, or mid-prefill).
   */
  int adoptCachedPrefix(Sequence seq) {
    if (!blocks.prefixCaching() || seq.numComputedTokens() > 0 || !seq.blockTable().isEmpty()) return -1;
    int maxBlocks = (seq.numTokens() - 1) / blocks.blockSize();
    if (maxBlocks == 0) return 0;
    long[] hashes = seq.lookupChain(maxBlocks);
    if (hashes == null) {
      hashes = BlockHashes.chain(hashSalt, seq.allTokens(), blocks.blockSize(), maxBlocks);
      seq.keepLookupChain(hashes);
    }
    List<Integer> hit = blocks.cachedPrefix(hashes, maxBlocks);
    if (hit.isEmpty()) return 0;
    blocks.touch(hit);
    seq.blockTable().addAll(hit);
    int tokens = hit.size() * blocks.blockSize();
    seq.adoptCachedPrefix(tokens);
    for (int i = 0; i < hit.size(); i++) seq.blockHashed(hashes[i]);
    return tokens;
  }

  /** Gives back the cached blocks a sequence adopted but will not run with now. */
  void dropCachedPrefix(Sequence seq) {
    blocks.release(seq.blockTable());
    seq.dropCachedPrefix();
  }

  /** Registers the sequence's blocks that are now full and computed under their content hashes. */
  void registerFullBlocks(Sequence seq) {
    if (!blocks.prefixCaching()) return;
    int full = seq.numComputedTokens() / blocks.blockSize();
    for (int b = seq.hashedBlocks(); b < full; b++) {
      long hash = BlockHashes.next(b == 0 ? hashSalt : seq.lastBlockHash(), seq::tokenAt, b * blocks.blockSize(),
          blocks.blockSize());
      blocks.register(seq.blockTable().get(b), hash);
      seq.blockHashed(hash);
    }
  }
}
