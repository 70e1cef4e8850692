package io.decodefleet.coordinator.metrics;

import java.util.Comparator;

/**
 * Natural order of agent ids: runs of digits compare by numeric value, everything else by
 * character, so "agent-2" sorts before "agent-10" (plain string order would put it after).
 */
public final class AgentOrder implements Comparator<String> {

  public static final AgentOrder INSTANCE = new AgentOrder();

  private AgentOrder() {}

  @Override
  public int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char ca = a.charAt(i);
      char cb = b.charAt(j);
      if (isDigit(ca) && isDigit(cb)) {
        int endA = digitsEnd(a, i);
        int endB = digitsEnd(b, j);
        int byValue = compareDigits(a, i, endA, b, j, endB);
        if (byValue != 0) {
          return byValue;
        }
        i = endA;
        j = endB;
      } else {
        if (ca != cb) {
          return Character.compare(ca, cb);
        }
        i++;
        j++;
      }
    }
    int byLength = Integer.compare(a.length() - i, b.length() - j);
    // Ids equal up to leading zeros ("a-01" vs "a-1") still need a total order: fall back to text.
    return byLength != 0 ? byLength : a.compareTo(b);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int digitsEnd(String s, int from) {
    int end = from;
    while (end < s.length() && isDigit(s.charAt(end))) {
      end++;
    }
    return end;
  }

  /** Compares two digit runs by value without parsing, so arbitrarily long numbers work. */
  private static int compareDigits(String a, int fromA, int endA, String b, int fromB, int endB) {
    while (fromA < endA - 1 && a.charAt(fromA) == '0') {
      fromA++;
    }
    while (fromB < endB - 1 && b.charAt(fromB) == '0') {
      fromB++;
    }
    int byLength = Integer.compare(endA - fromA, endB - fromB);
    if (byLength != 0) {
      return byLength;
    }
    for (; fromA < endA; fromA++, fromB++) {
      int byDigit = Character.compare(a.charAt(fromA), b.charAt(fromB));
      if (byDigit != 0) {
        return byDigit;
      }
    }
    return 0;
  }
}
