// The data section of a MaxMind DB file (GeoLite2, GeoIP2, DB-IP and IPinfo `.mmdb`): the typed values the
// search tree points to, decoded as the format's specification describes them. Every read is checked against
// the section's bounds, and nesting and pointer chains are bounded, so a damaged or hostile file raises a
// clear error instead of reading past its end or recursing without end.

/** A decoded value: maps and arrays as plain objects and arrays, 64- and 128-bit integers as bigints. */
export type MmdbValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | readonly MmdbValue[]
  | { readonly [key: string]: MmdbValue };

export class MmdbFormatError extends Error {}

/** Deeper nesting than any real database uses (GeoIP2 City: 4). */
const MAX_DEPTH = 32;

const enum Type {
  Extended = 0,
  Pointer = 1,
  Utf8 = 2,
  Double = 3,
  Bytes = 4,
  Uint16 = 5,
  Uint32 = 6,
  Map = 7,
  Int32 = 8,
  Uint64 = 9,
  Uint128 = 10,
  Array = 11,
  Container = 12,
  EndMarker = 13,
  Boolean = 14,
  Float = 15,
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const keys = new Map<string, Uint8Array>();
/** A map key's UTF-8 bytes, encoded once. */
function keyBytes(key: string): Uint8Array {
  let bytes = keys.get(key);
  if (bytes === undefined) keys.set(key, (bytes = new TextEncoder().encode(key)));
  return bytes;
}

/**
 * Decodes the values of one data section: `bytes[start, end)`, pointers counted from `start`. The metadata
 * block is a data section of its own (pointers from the marker's end).
 */
export class MmdbDecoder {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  /** The value at `offset` (from the section's start). */
  valueAt(offset: number): MmdbValue {
    return this.decode(this.start + offset, 0).value;
  }

  private byte(at: number): number {
    if (at < this.start || at >= this.end)
      throw new MmdbFormatError(`a value runs past the end of its section (byte ${at})`);
    return this.bytes[at]!;
  }

  private unsigned(at: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.byte(at + i);
    return v;
  }

  private big(at: number, size: number): bigint {
    let v = 0n;
    for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(this.byte(at + i));
    return v;
  }

  private span(at: number, size: number): Uint8Array {
    if (size > 0) {
      this.byte(at);
      this.byte(at + size - 1);
    }
    return this.bytes.subarray(at, at + size);
  }

  /**
   * A field's control bytes at `at`: its type, its size and where its payload starts; for a pointer, where
   * it points (`size`, from the section's start) and `payload` is the byte after it.
   */
  private header(at: number): { type: number; size: number; payload: number } {
    const control = this.byte(at);
    let p = at + 1;
    let type = control >> 5;
    if (type === Type.Pointer) {
      const ss = (control >> 3) & 3;
      const vvv = control & 7;
      let target: number;
      if (ss === 0) target = vvv * 0x100 + this.unsigned(p, 1);
      else if (ss === 1) target = vvv * 0x10000 + this.unsigned(p, 2) + 2048;
      else if (ss === 2) target = vvv * 0x1000000 + this.unsigned(p, 3) + 526336;
      else target = this.unsigned(p, 4);
      return { type, size: target, payload: p + ss + 1 };
    }
    if (type === Type.Extended) {
      type = 7 + this.byte(p);
      p += 1;
      if (type < 8) throw new MmdbFormatError(`an extended type byte names type ${type} (byte ${at})`);
    }
    let size = control & 0x1f;
    if (size === 29) {
      size = 29 + this.unsigned(p, 1);
      p += 1;
    } else if (size === 30) {
      size = 285 + this.unsigned(p, 2);
      p += 2;
    } else if (size === 31) {
      size = 65821 + this.unsigned(p, 3);
      p += 3;
    }
    return { type, size, payload: p };
  }

  /** Where a pointer at `at` leads (never to another pointer: the specification forbids it, and it could loop). */
  private pointed(at: number, target: number): number {
    const pointed = this.start + target;
    if (this.byte(pointed) >> 5 === Type.Pointer)
      throw new MmdbFormatError(`a pointer points to another pointer (byte ${at})`);
    return pointed;
  }

  /** The offset after the field at `at`, without decoding it (a pointer is not followed). */
  private skip(at: number, depth: number): number {
    if (depth > MAX_DEPTH) throw new MmdbFormatError(`values nested deeper than ${MAX_DEPTH}`);
    const { type, size, payload } = this.header(at);
    switch (type) {
      case Type.Pointer:
      case Type.Boolean:
        return payload;
      case Type.Map:
      case Type.Array: {
        let q = payload;
        for (let i = 0; i < (type === Type.Map ? size * 2 : size); i++) q = this.skip(q, depth + 1);
        return q;
      }
      case Type.Utf8:
      case Type.Bytes:
      case Type.Double:
      case Type.Float:
      case Type.Uint16:
      case Type.Uint32:
      case Type.Int32:
      case Type.Uint64:
      case Type.Uint128:
        if (payload + size > this.end)
          throw new MmdbFormatError(`a value runs past the end of its section (byte ${at})`);
        return payload + size;
      default:
        throw new MmdbFormatError(`a value of type ${type}, which a data section does not hold (byte ${at})`);
    }
  }

  /** Whether the map key at `at` (a string, or a pointer to one) is `key`'s UTF-8 bytes. */
  private keyIs(at: number, key: Uint8Array): boolean {
    let h = this.header(at);
    let where = at;
    if (h.type === Type.Pointer) {
      where = this.pointed(at, h.size);
      h = this.header(where);
    }
    if (h.type !== Type.Utf8) throw new MmdbFormatError(`a map key that is not a string (byte ${where})`);
    if (h.size !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (this.byte(h.payload + i) !== key[i]) return false;
    return true;
  }

  /**
   * The value under `path` (map keys) of the value at `offset`, decoding that value only and skipping the
   * rest (a City record's names in eight languages are never built); undefined when a key is absent or a
   * step is not a map.
   */
  valueAtPath(offset: number, path: readonly string[]): MmdbValue | undefined {
    let at = this.start + offset;
    for (const key of path) {
      let h = this.header(at);
      if (h.type === Type.Pointer) {
        at = this.pointed(at, h.size);
        h = this.header(at);
      }
      if (h.type !== Type.Map) return undefined;
      const wanted = keyBytes(key);
      let q = h.payload;
      let found = -1;
      for (let i = 0; i < h.size && found < 0; i++) {
        const valueStart = this.skip(q, 1);
        if (this.keyIs(q, wanted)) found = valueStart;
        else q = this.skip(valueStart, 1);
      }
      if (found < 0) return undefined;
      at = found;
    }
    return this.decode(at, 0).value;
  }

  private decode(at: number, depth: number): { value: MmdbValue; next: number } {
    if (depth > MAX_DEPTH) throw new MmdbFormatError(`values nested deeper than ${MAX_DEPTH}`);
    const { type, size, payload: p } = this.header(at);
    if (type === Type.Pointer)
      return { value: this.decode(this.pointed(at, size), depth + 1).value, next: p };
    switch (type) {
      case Type.Utf8:
        return { value: utf8.decode(this.span(p, size)), next: p + size };
      case Type.Bytes:
        return { value: this.span(p, size).slice(), next: p + size };
      case Type.Double:
        if (size !== 8) throw new MmdbFormatError(`a double of ${size} bytes (byte ${at})`);
        return { value: new DataView(this.span(p, 8).slice().buffer).getFloat64(0), next: p + 8 };
      case Type.Float:
        if (size !== 4) throw new MmdbFormatError(`a float of ${size} bytes (byte ${at})`);
        return { value: new DataView(this.span(p, 4).slice().buffer).getFloat32(0), next: p + 4 };
      case Type.Uint16:
      case Type.Uint32:
        if (size > (type === Type.Uint16 ? 2 : 4))
          throw new MmdbFormatError(
            `an unsigned integer of ${size} bytes where at most ${type === Type.Uint16 ? 2 : 4} fit (byte ${at})`,
          );
        return { value: this.unsigned(p, size), next: p + size };
      case Type.Int32: {
        if (size > 4) throw new MmdbFormatError(`an int32 of ${size} bytes (byte ${at})`);
        const v = this.unsigned(p, size);
        return { value: size === 4 && v >= 0x80000000 ? v - 0x100000000 : v, next: p + size };
      }
      case Type.Uint64:
      case Type.Uint128:
        if (size > (type === Type.Uint64 ? 8 : 16))
          throw new MmdbFormatError(`an unsigned integer of ${size} bytes (byte ${at})`);
        return { value: this.big(p, size), next: p + size };
      case Type.Boolean:
        if (size > 1) throw new MmdbFormatError(`a boolean of value ${size} (byte ${at})`);
        return { value: size === 1, next: p };
      case Type.Map: {
        const map: Record<string, MmdbValue> = Object.create(null) as Record<string, MmdbValue>;
        let q = p;
        for (let i = 0; i < size; i++) {
          const key = this.decode(q, depth + 1);
          if (typeof key.value !== "string")
            throw new MmdbFormatError(`a map key that is not a string (byte ${q})`);
          const value = this.decode(key.next, depth + 1);
          map[key.value] = value.value;
          q = value.next;
        }
        return { value: map, next: q };
      }
      case Type.Array: {
        const list: MmdbValue[] = [];
        let q = p;
        for (let i = 0; i < size; i++) {
          const item = this.decode(q, depth + 1);
          list.push(item.value);
          q = item.next;
        }
        return { value: list, next: q };
      }
      default:
        throw new MmdbFormatError(`a value of type ${type}, which a data section does not hold (byte ${at})`);
    }
  }
}
