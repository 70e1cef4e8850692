package io.decodefleet.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Arbitrary JSON for the decoders' properties: the values a client may send in any field, with the
 * numbers that break careless code (huge, negative, fractional, out of a long's range) well
 * represented, and objects whose keys are mostly the ones a decoder knows.
 */
public final class JsonArbitraries {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private JsonArbitraries() {}

  /** Numbers: small ints, ints and longs at their edges, beyond a long, fractions, huge exponents. */
  public static Arbitrary<JsonNode> numbers() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(-3, 3000).map(JSON::numberNode)),
        Tuple.of(2, Arbitraries.integers().map(JSON::numberNode)),
        Tuple.of(1, Arbitraries.longs().map(JSON::numberNode)),
        Tuple.of(1, Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30))
            .map(JSON::numberNode)),
        Tuple.of(2, Arbitraries.doubles().map(JSON::numberNode)),
        Tuple.of(1, Arbitraries.of(0.0, -0.0, 0.5, 1.0, 1.5, 1e-50, 1e300, Double.MIN_VALUE, Double.MAX_VALUE)
            .map(JSON::numberNode)),
        Tuple.of(1, Arbitraries.of("1e400", "-1e400", "1e-400", "2147483648", "9223372036854775808", "1.0")
            .map(s -> JSON.numberNode(new BigDecimal(s)))));
  }

  /** Strings: short ones of any characters (lone surrogates included) and a few a decoder might name. */
  public static Arbitrary<JsonNode> strings() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(40).map(JSON::textNode),
        Arbitraries.of("", "tiny", "text", "user", "none", "true", "1", "inf", "NaN").map(JSON::textNode));
  }

  /** Any JSON value, nested at most {@code depth} deep, objects' keys drawn mostly from {@code keys}. */
  public static Arbitrary<JsonNode> values(int depth, List<String> keys) {
    Arbitrary<JsonNode> leaf = Arbitraries.frequencyOf(
        Tuple.of(3, numbers()),
        Tuple.of(2, strings()),
        Tuple.of(1, Arbitraries.of(JSON.nullNode(), JSON.booleanNode(true), JSON.booleanNode(false))));
    if (depth == 0) return leaf;
    Arbitrary<JsonNode> inner = values(depth - 1, keys);
    return Arbitraries.frequencyOf(
        Tuple.of(6, leaf),
        Tuple.of(2, inner.list().ofMaxSize(6).map(list -> JSON.arrayNode().addAll(list))),
        Tuple.of(2, objects(inner, keys, 6)));
  }

  /** Objects of up to {@code maxFields} fields, keys mostly from {@code keys}, values from {@code values}. */
  public static Arbitrary<JsonNode> objects(Arbitrary<JsonNode> values, List<String> keys, int maxFields) {
    Arbitrary<String> key = keys.isEmpty() ? Arbitraries.strings().all().ofMaxLength(12)
        : Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.of(keys)), Tuple.of(1, Arbitraries.strings().all().ofMaxLength(12)));
    // Fields as a list (a later one of the same key replaces the earlier): a map's unique keys would
    // make the generator retry for keys outside the few known ones.
    return Combinators.combine(key, values).as(Map::entry).list().ofMaxSize(maxFields).map(JsonArbitraries::object);
  }

  private static JsonNode object(List<Map.Entry<String, JsonNode>> fields) {
    ObjectNode o = JSON.objectNode();
    fields.forEach(f -> o.set(f.getKey(), f.getValue()));
    return o;
  }
}
