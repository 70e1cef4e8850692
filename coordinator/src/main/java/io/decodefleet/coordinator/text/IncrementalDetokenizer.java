package io.decodefleet.coordinator.text;

import java.util.Arrays;

/**
 * The text of one generated sequence, as it streams: feed the ids as they come, get the text they
 * add. Decoding each id alone would be wrong twice over: a character's UTF-8 bytes may be split across
 * ids (byte-level BPE, byte fallback, the {@link ByteTokenizer}), and SentencePiece-style decoders drop
 * a leading space that belongs to a word in the middle of the text.
 *
 * <p>As vLLM does: the ids are decoded in a short window that starts a few ids before the new ones (a
 * "prefix"), and the new text is what the window with the new ids adds to the window without them.
 * While that addition ends in U+FFFD (a UTF-8 sequence not yet complete), its trailing run of U+FFFD
 * is held back and the window does not advance, so that a multi-byte character is only ever emitted
 * whole; what comes before the run is final and is emitted. A sequence that never completes (a model
 * emitting stray bytes) is released as U+FFFD once a later id ends the run, or by {@link #flush()}.
 *
 * <p>The concatenation of every {@link #add} and the final {@link #flush()} is the decode of all the
 * generated ids together (for decoders whose output over a window does not depend on ids before it,
 * which holds for byte-level BPE, SentencePiece and the byte tokenizer). Not thread-safe: one per
 * sequence.
 */
public final class IncrementalDetokenizer {

  /** Prompt ids kept in front of the generated ones as decoding context (vLLM keeps the same number). */
  static final int PROMPT_CONTEXT = 5;
  private static final char REPLACEMENT = '\uFFFD';

  private final Tokenizer tokenizer;
  private final boolean skipSpecialTokens;
  /** (length) the last prompt ids, then every generated id; ids[0, length) are in use */
  private int[] ids;
  private int length;
  /** start of the decoding window */
  private int prefixOffset;
  /** end of what has been emitted in full; ids after it are new or held */
  private int readOffset;
  /** chars past the prefix text already emitted while the window waits for a character to complete */
  private int emittedPastRead;
  private final StringBuilder text = new StringBuilder();

  /**
   * @param promptIds the prompt's ids: its last {@value #PROMPT_CONTEXT} give the first generated
   *     ids their context (their text is not emitted)
   * @param skipSpecialTokens as {@link Tokenizer#decode}: whether EOS and its kind emit text
   */
  public IncrementalDetokenizer(Tokenizer tokenizer, int[] promptIds, boolean skipSpecialTokens) {
    this.tokenizer = tokenizer;
    this.skipSpecialTokens = skipSpecialTokens;
    int context = Math.min(PROMPT_CONTEXT, promptIds.length);
    this.ids = Arrays.copyOfRange(promptIds, promptIds.length - context, promptIds.length + 16);
    this.length = context;
    this.prefixOffset = 0;
    this.readOffset = context;
  }

  /**
   * Adds generated ids.
   *
   * @return the text they add that is final, possibly "" (a character still incomplete)
   */
  public String add(int... newIds) {
    if (length + newIds.length > ids.length) {
      ids = Arrays.copyOf(ids, Math.max(ids.length * 2, length + newIds.length));
    }
    System.arraycopy(newIds, 0, ids, length, newIds.length);
    length += newIds.length;
    String added = addedText();
    int stable = added.length();
    while (stable > 0 && added.charAt(stable - 1) == REPLACEMENT) {
      stable--;
    }
    if (stable == added.length()) {
      // Nothing new (a skipped special token): the window keeps its start, which gives the next ids
      // their context (a leading space is only dropped at a window's start).
      return added.length() > emittedPastRead ? advance(added) : "";
    }
    if (stable <= emittedPastRead) {
      return "";
    }
    String delta = added.substring(emittedPastRead, stable);
    emittedPastRead = stable;
    text.append(delta);
    return delta;
  }

  /** The text held back (an incomplete character, as U+FFFD), at the end of the sequence; "" if none. */
  public String flush() {
    return advance(addedText());
  }

  /** All the text emitted so far. */
  public String text() {
    return text.toString();
  }

  /** What the ids after {@link #readOffset} add to the text of the window before them. */
  private String addedText() {
    String prefix = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset), skipSpecialTokens);
    String window = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, length), skipSpecialTokens);
    // A decoder may rewrite the end of the prefix once more ids follow; the window's text past the
    // prefix's length is then still the best estimate of the new text, as in vLLM.
    return window.length() > prefix.length() ? window.substring(prefix.length()) : "";
  }

  private String advance(String added) {
    String delta = added.length() > emittedPastRead ? added.substring(emittedPastRead) : "";
    prefixOffset = readOffset;
    readOffset = length;
    emittedPastRead = 0;
    text.append(delta);
    return delta;
  }
}
