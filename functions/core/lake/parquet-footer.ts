// A written Parquet file's footer, read and rewritten whole: Thrift's compact protocol into a generic tree
// (every field kept, known or not), so that a file another writer produced (DuckDB's, in compaction) can
// have a few fields corrected without touching its data pages, which the footer only points at.

const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12, UUID: 13 } as const;

export type ThriftValue =
  | { readonly kind: 'bool'; value: boolean }
  | { readonly kind: 'int'; readonly type: number; value: bigint }
  /** double (8 bytes, little-endian), binary, uuid (16 bytes): kept as the bytes on the wire */
  | { readonly kind: 'bytes'; readonly type: number; value: Uint8Array }
  | { readonly kind: 'list'; readonly type: number; readonly elem: number; items: ThriftValue[] }
  | { readonly kind: 'map'; readonly key: number; readonly val: number; entries: Array<[ThriftValue, ThriftValue]> }
  | { readonly kind: 'struct'; fields: ThriftField[] };

export interface ThriftField {
  readonly id: number;
  value: ThriftValue;
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new Error('Parquet footer ends early');
    return this.b[this.pos++]!;
  }

  varint(): bigint {
    let out = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = this.byte();
      out |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return out;
      if (shift > 63n) throw new Error('Parquet footer: varint too long');
    }
  }

  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new Error('Parquet footer ends early');
    return this.b.slice(this.pos, (this.pos += n));
  }

  value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE: case T.FALSE: return { kind: 'bool', value: this.byte() === 1 }; // only as a collection element
      case T.BYTE: return { kind: 'int', type, value: BigInt((this.byte() << 24) >> 24) };
      case T.I16: case T.I32: case T.I64: return { kind: 'int', type, value: this.zigzag() };
      case T.DOUBLE: return { kind: 'bytes', type, value: this.take(8) };
      case T.UUID: return { kind: 'bytes', type, value: this.take(16) };
      case T.BINARY: return { kind: 'bytes', type, value: this.take(Number(this.varint())) };
      case T.LIST: case T.SET: {
        const head = this.byte();
        const size = head >> 4 === 15 ? Number(this.varint()) : head >> 4;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(head & 15));
        return { kind: 'list', type, elem: head & 15, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        const kv = size > 0 ? this.byte() : 0;
        const entries: Array<[ThriftValue, ThriftValue]> = [];
        for (let i = 0; i < size; i++) entries.push([this.value(kv >> 4), this.value(kv & 15)]);
        return { kind: 'map', key: kv >> 4, val: kv & 15, entries };
      }
      case T.STRUCT: return this.struct();
      default: throw new Error(`Parquet footer: unknown Thrift type ${type}`);
    }
  }

  struct(): ThriftValue {
    const fields: ThriftField[] = [];
    for (let last = 0; ;) {
      const head = this.byte();
      if (head === 0) return { kind: 'struct', fields };
      const type = head & 15;
      const id = head >> 4 === 0 ? Number(this.zigzag()) : last + (head >> 4);
      last = id;
      fields.push({ id, value: type === T.TRUE || type === T.FALSE ? { kind: 'bool', value: type === T.TRUE } : this.value(type) });
    }
  }
}

class Writer {
  private readonly parts: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  private varint(n: bigint): void {
    while (n >= 0x80n) {
      this.parts.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.parts.push(Number(n));
  }

  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }

  private raw(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }

  /** The wire type of a value in a field header or a collection. */
  private static typeOf(v: ThriftValue): number {
    switch (v.kind) {
      case 'bool': return v.value ? T.TRUE : T.FALSE;
      case 'int': case 'bytes': case 'list': return v.type;
      case 'map': return T.MAP;
      case 'struct': return T.STRUCT;
    }
  }

  value(v: ThriftValue): void {
    switch (v.kind) {
      case 'bool': this.parts.push(v.value ? 1 : 2); return; // a collection element; fields carry it in the header
      case 'int': if (v.type === T.BYTE) this.parts.push(Number(BigInt.asUintN(8, v.value))); else this.zigzag(v.value); return;
      case 'bytes': if (v.type === T.BINARY) this.varint(BigInt(v.value.length)); this.raw(v.value); return;
      case 'list':
        if (v.items.length < 15) this.parts.push((v.items.length << 4) | v.elem);
        else { this.parts.push(0xf0 | v.elem); this.varint(BigInt(v.items.length)); }
        for (const item of v.items) this.value(item);
        return;
      case 'map':
        this.varint(BigInt(v.entries.length));
        if (v.entries.length > 0) this.parts.push((v.key << 4) | v.val);
        for (const [k, x] of v.entries) { this.value(k); this.value(x); }
        return;
      case 'struct': {
        let last = 0;
        for (const f of v.fields) {
          const type = Writer.typeOf(f.value);
          const delta = f.id - last;
          if (delta > 0 && delta <= 15) this.parts.push((delta << 4) | type);
          else { this.parts.push(type); this.zigzag(BigInt(f.id)); }
          last = f.id;
          if (f.value.kind !== 'bool') this.value(f.value);
        }
        this.parts.push(0);
      }
    }
  }
}

const MAGIC = 'PAR1';

/** The footer of a Parquet file (FileMetaData) as a tree, and where it starts. */
export function readFooter(file: Uint8Array): { footer: ThriftValue & { kind: 'struct' }; start: number } {
  const n = file.length;
  const tail = Buffer.from(file.buffer, file.byteOffset, n);
  if (n < 12 || tail.toString('latin1', n - 4) !== MAGIC || tail.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a Parquet file');
  const length = tail.readUInt32LE(n - 8);
  const start = n - 8 - length;
  if (start < 4) throw new Error('Parquet footer length out of range');
  return { footer: parseFooter(file.subarray(start, n - 8)), start };
}

/** FileMetaData from the footer's bytes alone (those between the data and `<length>PAR1`). */
export function parseFooter(bytes: Uint8Array): ThriftValue & { kind: 'struct' } {
  return new Reader(bytes).struct() as ThriftValue & { kind: 'struct' };
}

/** The file with another footer: its data pages untouched (the footer points into them by offset). */
export function withFooter(file: Uint8Array, start: number, footer: ThriftValue & { kind: 'struct' }): Uint8Array {
  const w = new Writer();
  w.value(footer);
  const body = w.bytes();
  const out = new Uint8Array(start + body.length + 8);
  out.set(file.subarray(0, start));
  out.set(body, start);
  const view = new DataView(out.buffer);
  view.setUint32(start + body.length, body.length, true);
  out.set(Buffer.from(MAGIC, 'latin1'), start + body.length + 4);
  return out;
}

export const field = (s: ThriftValue | undefined, id: number): ThriftValue | undefined =>
  s?.kind === 'struct' ? s.fields.find((f) => f.id === id)?.value : undefined;
