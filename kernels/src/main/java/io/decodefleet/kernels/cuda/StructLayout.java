package io.decodefleet.kernels.cuda;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte layout of a kernel parameter struct, derived from the Java record that mirrors it.
 *
 * <p>Each record component is one struct field, in declaration order: {@code long} is a device
 * pointer (8 bytes, 8-aligned), {@code int} an int32 and {@code float} a float32 (4 bytes,
 * 4-aligned), {@link TensorMap} an encoded CUDA tensor map (128 bytes, 64-aligned, as TMA needs).
 * Offsets follow the C rules for these types on x86-64 and CUDA (each field at the next multiple
 * of its alignment, the size rounded up to the largest alignment), and the structs
 * in {@code src/main/cuda} put pointers first so no padding appears between fields. A unit test
 * parses the CUDA struct definitions and checks them against these layouts field by field; the
 * CUDA side pins each size with a {@code static_assert}.
 *
 * <p>Packing is little-endian (the byte order of x86-64 hosts and of the GPU), into the buffer
 * that {@code cuLaunchKernel} copies as the kernel's one by-value parameter.
 */
public final class StructLayout {

  /** One field: its name (as in the CUDA struct), kind, and byte offset. */
  public record Field(String name, Kind kind, int offset) {}

  /** The field kinds a parameter struct may hold. */
  public enum Kind {
    POINTER(8, 8),
    INT32(4, 4),
    FLOAT32(4, 4),
    TENSOR_MAP(TensorMap.BYTES, 64);

    private final int size;
    private final int alignment;

    Kind(int size, int alignment) {
      this.size = size;
      this.alignment = alignment;
    }

    /** Size in bytes. */
    public int size() {
      return size;
    }

    /** Alignment in bytes. */
    public int alignment() {
      return alignment;
    }
  }

  private final String structName;
  private final List<Field> fields;
  private final int size;
  private final Method[] accessors;

  private StructLayout(String structName, List<Field> fields, int size, Method[] accessors) {
    this.structName = structName;
    this.fields = List.copyOf(fields);
    this.size = size;
    this.accessors = accessors;
  }

  /** The layout of a parameter record, whose simple name is the CUDA struct's name. */
  public static StructLayout of(Class<? extends Record> type) {
    RecordComponent[] components = type.getRecordComponents();
    List<Field> fields = new ArrayList<>();
    Method[] accessors = new Method[components.length];
    int offset = 0;
    int maxAlign = 1;
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      Kind kind = kindOf(type, c);
      offset = align(offset, kind.alignment());
      fields.add(new Field(c.getName(), kind, offset));
      offset += kind.size();
      maxAlign = Math.max(maxAlign, kind.alignment());
      accessors[i] = c.getAccessor();
    }
    return new StructLayout(type.getSimpleName(), fields, align(offset, maxAlign), accessors);
  }

  private static Kind kindOf(Class<?> type, RecordComponent c) {
    Class<?> t = c.getType();
    if (t == long.class) {
      return Kind.POINTER;
    }
    if (t == int.class) {
      return Kind.INT32;
    }
    if (t == float.class) {
      return Kind.FLOAT32;
    }
    if (t == TensorMap.class) {
      return Kind.TENSOR_MAP;
    }
    throw new IllegalArgumentException(
        type.getSimpleName() + "." + c.getName() + " has type " + t.getSimpleName()
            + "; a parameter struct holds only long (pointer), int, float and TensorMap");
  }

  private static int align(int offset, int alignment) {
    return (offset + alignment - 1) / alignment * alignment;
  }

  public String structName() {
    return structName;
  }

  public List<Field> fields() {
    return fields;
  }

  /** sizeof the struct in bytes, trailing padding included. */
  public int size() {
    return size;
  }

  /** Offset of the named field; throws if there is none. */
  public int offsetOf(String name) {
    for (Field f : fields) {
      if (f.name().equals(name)) {
        return f.offset();
      }
    }
    throw new IllegalArgumentException(structName + " has no field '" + name + "'");
  }

  /** The struct's bytes for {@code value}, a record of the type this layout was made from. */
  public byte[] pack(Record value) {
    ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < fields.size(); i++) {
      Field f = fields.get(i);
      Object v = read(accessors[i], value);
      switch (f.kind()) {
        case POINTER -> buf.putLong(f.offset(), (Long) v);
        case INT32 -> buf.putInt(f.offset(), (Integer) v);
        case FLOAT32 -> buf.putFloat(f.offset(), (Float) v);
        case TENSOR_MAP -> buf.put(f.offset(), ((TensorMap) v).bytes());
        default -> throw new AssertionError(f.kind());
      }
    }
    return buf.array();
  }

  private Object read(Method accessor, Record value) {
    try {
      return accessor.invoke(value);
    } catch (IllegalAccessException | InvocationTargetException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot pack a " + value.getClass().getSimpleName() + " as " + structName, e);
    }
  }
}
