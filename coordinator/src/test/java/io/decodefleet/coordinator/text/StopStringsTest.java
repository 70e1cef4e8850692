package io.decodefleet.coordinator.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StopStringsTest {

  @Test
  void aStopStringSpanningTwoDeltasStopsAndIsCutOff() {
    StopStrings stops = new StopStrings(List.of("STOP"));

    StopStrings.Delta first = stops.append("Hello ST");
    StopStrings.Delta second = stops.append("OP and more");

    assertEquals(new StopStrings.Delta("Hello ", Optional.empty()), first, "the partial match is held back");
    assertEquals(new StopStrings.Delta("", Optional.of("STOP")), second);
    assertTrue(stops.stopped());
  }

  @Test
  void aPartialMatchThatTurnsOutNotToBeAStopIsReleased() {
    StopStrings stops = new StopStrings(List.of("\n\n"));

    assertEquals("line", stops.append("line\n").text());
    StopStrings.Delta next = stops.append("next");

    assertEquals(new StopStrings.Delta("\nnext", Optional.empty()), next);
    assertFalse(stops.stopped());
  }

  @Test
  void textBeforeTheStopInTheSameDeltaIsReturned() {
    StopStrings stops = new StopStrings(List.of("</answer>"));

    assertEquals(new StopStrings.Delta("42", Optional.of("</answer>")), stops.append("42</answer> trailing"));
  }

  @Test
  void theEarliestOccurrenceWinsWhateverTheOrderOfTheStops() {
    StopStrings stops = new StopStrings(List.of("world", "lo"));

    assertEquals(new StopStrings.Delta("hel", Optional.of("lo")), stops.append("hello world"));
  }

  @Test
  void aHeldPrefixCanGrowOverSeveralDeltasBeforeItResolves() {
    StopStrings stops = new StopStrings(List.of("<|end|>"));

    assertEquals("a", stops.append("a<").text());
    assertEquals("", stops.append("|e").text());
    assertEquals("", stops.append("n").text());
    assertEquals("<|enx", stops.append("x").text());
  }

  @Test
  void flushReleasesTheHeldTextWhenTheSequenceEndsOtherwise() {
    StopStrings stops = new StopStrings(List.of("abc"));

    assertEquals("", stops.append("ab").text());
    assertEquals("ab", stops.flush());
    assertEquals("", stops.flush());
  }

  @Test
  void afterAStopNothingMoreComesOut() {
    StopStrings stops = new StopStrings(List.of("x"));
    stops.append("axb");

    assertEquals(new StopStrings.Delta("", Optional.empty()), stops.append("more"));
    assertEquals("", stops.flush());
  }

  @Test
  void withoutStopStringsEverythingPassesAtOnce() {
    StopStrings none = new StopStrings(List.of());

    assertEquals("anything <", none.append("anything <").text());
  }

  @Test
  void anEmptyStopStringIsRefusedWithItsIndex() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StopStrings(List.of("ok", "")));

    assertTrue(e.getMessage().startsWith("stop[1]"), e.getMessage());
  }
}
