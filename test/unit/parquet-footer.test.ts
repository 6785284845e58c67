// The footer rewrite compaction applies to DuckDB's files (core/lake/float-statistics.ts), and the rule it
// enforces, on Tributary's own encoder: zero extremes of doubles are written -0.0 (min) and +0.0 (max).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { withSignedZeroStatistics } from '../../functions/core/lake/float-statistics.js';
import { readFooter, withFooter } from '../../functions/core/lake/parquet-footer.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import type { ColumnSpec } from '../../functions/core/schema/model.js';
import { duckRows, tempParquet } from '../duckdb.js';

const columns: ColumnSpec[] = [{ name: 'id', type: 'string', nullable: false, origin: 'inferred' }, { name: 'v', type: 'double', nullable: true, origin: 'inferred' }];
const file = (values: ReadonlyArray<number | null>): Promise<Uint8Array> =>
  encodeParquet(ColumnBuffers.fromRows(columns, values.map((v, i) => [`e${i}`, v])), { dictionaryColumns: ['id'] });

describe('signed zeros in statistics', () => {
  for (const [name, values, lo, hi] of [
    ['+0 then -0', [0, -0, 1.5], '-0.0', '1.5'],
    ['-0 then +0', [-0, 0, -2.5], '-2.5', '0.0'],
    ['only -0', [-0, -0, null], '-0.0', '0.0'],
    ['only +0', [0, 0], '-0.0', '0.0'],
  ] as const) {
    it(`Tributary's encoder follows the rule (${name}), and the footer rewrite leaves its file as it is`, async () => {
      const bytes = await file(values);
      const [stats] = await duckRows(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${tempParquet(bytes)}') WHERE path_in_schema = 'v'`);
      assert.deepEqual([stats!['lo'], stats!['hi']], [lo, hi]);
      assert.equal(withSignedZeroStatistics(bytes), bytes, 'already per the rule: the same bytes');
      const { footer, start } = readFooter(bytes);
      assert.equal(Buffer.compare(withFooter(bytes, start, footer), bytes), 0, 'the footer codec round-trips every field');
    });
  }
});
