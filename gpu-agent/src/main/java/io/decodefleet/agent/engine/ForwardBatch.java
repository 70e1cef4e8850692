package io.decodefleet.agent.engine;

/**
 * The flattened input of one forward pass: every scheduled token of every sequence, back to back.
 *
 * @param tokens (n) token ids
 * @param positions (n) position of each token in its sequence
 * @param slotMapping (n) KV slot of each token: block * blockSize + position % blockSize
 * @param blockTables (n) the block table of each token's sequence (shared between a sequence's tokens)
 * @param contextLens (n) how many positions each token attends to: its position + 1
 * @param sampleRows (numSampled) rows of the batch whose logits are needed (a sequence's last token)
 */
public record ForwardBatch(
    int[] tokens, int[] positions, int[] slotMapping, int[][] blockTables, int[] contextLens, int[] sampleRows) {

  public int numTokens() {
    return tokens.length;
  }

  public int numSampled() {
    return sampleRows.length;
  }

  /**
   * The batch of rows {@code rows} only (ascending), sampling none: the part of a step that one
   * expert-parallel rank attends.
   */
  public ForwardBatch rows(int[] rows) {
    int[] t = new int[rows.length];
    int[] p = new int[rows.length];
    int[] s = new int[rows.length];
    int[][] b = new int[rows.length][];
    int[] c = new int[rows.length];
    for (int i = 0; i < rows.length; i++) {
      t[i] = tokens[rows[i]];
      p[i] = positions[rows[i]];
      s[i] = slotMapping[rows[i]];
      b[i] = blockTables[rows[i]];
      c[i] = contextLens[rows[i]];
    }
    return new ForwardBatch(t, p, s, b, c, new int[0]);
  }
}
