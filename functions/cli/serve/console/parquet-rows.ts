// The row count of a Parquet file from its footer alone (FileMetaData.num_rows), so the console can count an
// S3 lake's rows per hour with a ranged read of each file's tail instead of downloading it.
// FileMetaData is Thrift's compact protocol: field 1 version (i32), 2 schema (list<SchemaElement>), 3 num_rows
// (i64); the reader skips whatever comes before field 3.

const MAGIC = 'PAR1';

/** The footer's length, from the file's last 8 bytes (`<length LE u32>PAR1`). */
export function footerLength(tail: Uint8Array): number {
  if (tail.length < 8 || new TextDecoder().decode(tail.subarray(tail.length - 4)) !== MAGIC) throw new Error('not a Parquet file (no PAR1 at its end)');
  return new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
}

class CompactReader {
  private pos = 0;
  constructor(private readonly b: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new Error('Parquet footer ends early');
    return this.b[this.pos++]!;
  }

  varint(): bigint {
    let shift = 0n;
    let out = 0n;
    for (;;) {
      const x = this.byte();
      out |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) return out;
      shift += 7n;
      if (shift > 70n) throw new Error('Parquet footer: varint too long');
    }
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  skipBytes(n: number): void {
    if (n < 0 || this.pos + n > this.b.length) throw new Error('Parquet footer ends early');
    this.pos += n;
  }

  /** Skips one value of compact type `t` (in a struct: bools carry their value in the type). */
  skip(t: number, inContainer = false): void {
    switch (t) {
      case 1: case 2: if (inContainer) this.byte(); return;
      case 3: this.byte(); return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.skipBytes(8); return;
      case 8: this.skipBytes(Number(this.varint())); return;
      case 9: case 10: {
        const h = this.byte();
        const size = (h >> 4) === 15 ? Number(this.varint()) : h >> 4;
        for (let i = 0; i < size; i++) this.skip(h & 0x0f, true);
        return;
      }
      case 11: {
        const size = Number(this.varint());
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) { this.skip(kv >> 4, true); this.skip(kv & 0x0f, true); }
        return;
      }
      case 12: this.struct(() => false); return;
      default: throw new Error(`Parquet footer: unknown Thrift type ${t}`);
    }
  }

  /** Reads a struct's fields; `on` takes a field (returns true when it read its value), others are skipped. */
  struct(on: (id: number, type: number) => boolean): void {
    let id = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === 0) return;
      const delta = h >> 4;
      id = delta === 0 ? Number(this.zigzag()) : id + delta;
      if (!on(id, type)) this.skip(type);
    }
  }
}

/** FileMetaData.num_rows of a footer (the bytes between the data and `<length>PAR1`). */
export function footerRows(footer: Uint8Array): number {
  const r = new CompactReader(footer);
  let rows: bigint | undefined;
  r.struct((id, type) => {
    if (id !== 3 || type !== 6) return false;
    rows = r.zigzag();
    return true;
  });
  if (rows === undefined) throw new Error('Parquet footer has no num_rows');
  return Number(rows);
}

/**
 * Rows of a file read through `tail(n)`, which returns its last n bytes (or the whole file when shorter):
 * one read of 64 KiB covers a lake file's footer; a bigger footer takes a second.
 */
export async function parquetRows(tail: (n: number) => Promise<Uint8Array>): Promise<number> {
  let bytes = await tail(64 * 1024);
  const length = footerLength(bytes);
  if (length + 8 > bytes.length) bytes = await tail(length + 8);
  if (length + 8 > bytes.length) throw new Error('Parquet footer is longer than the file');
  return footerRows(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
}
