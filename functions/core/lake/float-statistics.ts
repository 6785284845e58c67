// Parquet's rule for floating-point statistics, applied to a file another writer produced. The format says:
// a min that is ±0 is written -0.0 and a max that is ±0 is written +0.0, so that a reader pruning by them
// never skips a row group holding the other zero. DuckDB's writer (compaction) keeps whichever zero it met
// first, and its bloom filters hash a double's bytes, so one built over -0.0 denies a lookup of 0 and drops
// rows on `= 0`. This rewrites the footer only: zero extremes as the rule says, and the float columns'
// bloom filters and page indexes (per-page extremes by the writer's rule) no longer referenced.
import { field, readFooter, withFooter, type ThriftValue } from './parquet-footer.js';

const FLOAT = 4;
const DOUBLE = 5;
// Statistics: 1 max, 2 min (deprecated, signed order), 5 max_value, 6 min_value.
const MAX_FIELDS = new Set([1, 5]);
const MIN_FIELDS = new Set([2, 6]);
// ColumnMetaData 14/15: bloom filter offset/length. ColumnChunk 6/7: column index offset/length.
const BLOOM_FIELDS = new Set([14, 15]);
const COLUMN_INDEX_FIELDS = new Set([6, 7]);

const isZero = (b: Uint8Array, physical: number): boolean => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (physical === DOUBLE) return b.length === 8 && view.getFloat64(0, true) === 0;
  return b.length === 4 && view.getFloat32(0, true) === 0;
};

const zero = (negative: boolean, physical: number): Uint8Array => {
  const out = new Uint8Array(physical === DOUBLE ? 8 : 4);
  const view = new DataView(out.buffer);
  if (physical === DOUBLE) view.setFloat64(0, negative ? -0 : 0, true);
  else view.setFloat32(0, negative ? -0 : 0, true);
  return out;
};

const items = (v: ThriftValue | undefined): ThriftValue[] => (v?.kind === 'list' ? v.items : []);

/** The file with its float and double columns' statistics per the format's rule; the same bytes when they already are. */
export function withSignedZeroStatistics(file: Uint8Array): Uint8Array {
  const { footer, start } = readFooter(file);
  let changed = false;
  for (const rowGroup of items(field(footer, 4))) {
    for (const chunk of items(field(rowGroup, 1))) {
      const meta = field(chunk, 3);
      const type = field(meta, 1);
      const physical = type?.kind === 'int' ? Number(type.value) : -1;
      if (chunk.kind !== 'struct' || meta?.kind !== 'struct' || (physical !== DOUBLE && physical !== FLOAT)) continue;
      const kept = meta.fields.filter((f) => !BLOOM_FIELDS.has(f.id));
      const keptChunk = chunk.fields.filter((f) => !COLUMN_INDEX_FIELDS.has(f.id));
      if (kept.length !== meta.fields.length || keptChunk.length !== chunk.fields.length) {
        meta.fields = kept;
        chunk.fields = keptChunk;
        changed = true;
      }
      const stats = field(meta, 12);
      for (const f of stats?.kind === 'struct' ? stats.fields : []) {
        const isMin = MIN_FIELDS.has(f.id);
        if ((!isMin && !MAX_FIELDS.has(f.id)) || f.value.kind !== 'bytes' || !isZero(f.value.value, physical)) continue;
        const want = zero(isMin, physical);
        if (Buffer.compare(want, f.value.value) !== 0) {
          f.value.value = want;
          changed = true;
        }
      }
    }
  }
  return changed ? withFooter(file, start, footer) : file;
}
