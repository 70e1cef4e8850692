package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {

  @Test
  void fieldsWithCommasQuotesOrLineBreaksAreQuotedWithQuotesDoubled() {
    assertEquals("plain", Csv.text("plain"));
    assertEquals("\"a,b\"", Csv.text("a,b"));
    assertEquals("\"say \"\"hi\"\"\"", Csv.text("say \"hi\""));
    assertEquals("\"two\r\nlines\"", Csv.text("two\r\nlines"));
    assertEquals("\"one\nline\"", Csv.text("one\nline"));
    assertEquals("", Csv.text(null));
  }

  @Test
  void linesRoundTripThroughAnRfc4180Reader() {
    List<String> fields = List.of("x", "a,b", "q\"uote", "multi\nline", "", " spaced ");
    assertEquals(List.of(fields), CsvReading.parse(Csv.line(fields)));
  }

  @Test
  void numbersReadBackExactlyWithoutExponentAndNonFiniteIsEmpty() {
    for (double value : new double[] {0.0, 2.0, 1e-4, 123456789.125, 1.0 / 3, 5e20}) {
      String text = Csv.number(value);
      assertEquals(value, Double.parseDouble(text), 0, text);
      assertEquals(-1, text.indexOf('E'), text);
    }
    assertEquals("", Csv.number(Double.NaN));
    assertEquals("", Csv.number(Double.POSITIVE_INFINITY));
  }
}
