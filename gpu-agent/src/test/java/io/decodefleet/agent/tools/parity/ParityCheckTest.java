package io.decodefleet.agent.tools.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The parity check's comparisons. */
class ParityCheckTest {

  @Test
  void relativeErrorIsTheL2NormOfTheDifferenceOverTheReferencesAndNaNPoisonsIt() {
    float[] ref = {3, 4, 0, 0};
    float[] got = {3, 4, 0.5f, 0};
    assertEquals(0.1, ParityCheck.relL2(got, ref, 0, 4), 1e-9);
    assertEquals(0.0, ParityCheck.relL2(ref, ref, 0, 4));
    assertTrue(Double.isNaN(ParityCheck.relL2(new float[] {Float.NaN, 4, 0, 0}, ref, 0, 4)));
    assertEquals(0.5 / 5, ParityCheck.relL2(new float[] {9, 3, 4, 0.5f, 0}, new float[] {9, 3, 4, 0, 0}, 1, 4), 1e-9);
  }

  @Test
  void aDifferentTokenIsANearTieOnlyWhenTheReferenceBarelyPrefersItsOwn() {
    float[] cpu = {1.0f, 0.99f, -3.0f, 4.0f, 3.7f};
    assertTrue(ParityCheck.nearTie(cpu, 0, 5, 3, 4, 0.1), "4.0 vs 3.7 is within 0.1 x 4.0");
    assertFalse(ParityCheck.nearTie(cpu, 0, 5, 3, 0, 0.1), "4.0 vs 1.0 is not");
    assertFalse(ParityCheck.nearTie(cpu, 0, 5, 3, -1, 0.1), "an all-NaN row (-1) is never a tie");
  }
}
