// Thrift's compact protocol, write side only, for Parquet's footer and page headers: the few types
// parquet.thrift uses (i32, i64, binary, bool, struct, list).
import { ByteSink } from './byte-sink.js';

export const TType = { True: 1, False: 2, I32: 5, I64: 6, Binary: 8, List: 9, Struct: 12 } as const;
export type TType = (typeof TType)[keyof typeof TType];

export class CompactWriter {
  private readonly out: ByteSink;
  private lastField = 0;
  private readonly stack: number[] = [];

  constructor(capacity = 256) {
    this.out = new ByteSink(capacity);
  }

  get length(): number {
    return this.out.pos;
  }

  bytes(): Uint8Array {
    return this.out.view();
  }

  private byte(b: number): void {
    this.out.u8(b);
  }

  private varint(n: number): void {
    this.out.varint(n);
  }

  /**
   * Zigzag of a safe integer, in floating point so that it holds past 2^31; below -2^52, where -2n - 1
   * passes 2^53, through BigInt.
   */
  private zigzag(n: number): void {
    if (n >= 0) this.varint(2 * n);
    else if (n >= -(2 ** 52)) this.varint(-2 * n - 1);
    else this.bigVarint(-2n * BigInt(n) - 1n);
  }

  private bigVarint(n: bigint): void {
    while (n >= 0x80n) {
      this.out.u8(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.out.u8(Number(n));
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastField = id;
  }

  i32(id: number, value: number): this {
    this.fieldHeader(id, TType.I32);
    this.zigzag(value);
    return this;
  }

  i64(id: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`thrift i64 field ${id}: ${value} is not a safe integer`);
    this.fieldHeader(id, TType.I64);
    this.zigzag(value);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.fieldHeader(id, value ? TType.True : TType.False);
    return this;
  }

  binary(id: number, value: Uint8Array): this {
    this.fieldHeader(id, TType.Binary);
    this.rawBinary(value);
    return this;
  }

  string(id: number, value: string): this {
    return this.binary(id, Buffer.from(value, 'utf8'));
  }

  private rawBinary(value: Uint8Array): void {
    this.out.varint(value.length);
    this.out.bytes(value);
  }

  /** Opens a struct field; `end()` closes it. */
  struct(id: number): this {
    this.fieldHeader(id, TType.Struct);
    return this.begin();
  }

  /** Opens a struct that is a list element (no field header). */
  begin(): this {
    this.stack.push(this.lastField);
    this.lastField = 0;
    return this;
  }

  end(): this {
    this.byte(0);
    this.lastField = this.stack.pop() ?? 0;
    return this;
  }

  /** A list of `size` elements of `type`; elements follow (structs through begin/end). */
  list(id: number, type: TType, size: number): this {
    this.fieldHeader(id, TType.List);
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(size);
    }
    return this;
  }

  /** A list element of type i32. */
  elementI32(value: number): this {
    this.zigzag(value);
    return this;
  }

  /** A list element of type binary. */
  elementString(value: string): this {
    this.rawBinary(Buffer.from(value, 'utf8'));
    return this;
  }
}
