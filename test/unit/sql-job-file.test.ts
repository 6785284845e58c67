// A job file's header and the checks that need no engine; the output's additive evolution; ClickHouse types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseSqlJobFile } from '../../functions/core/jobs/sql-job-file.js';
import { columnTypeOf, evolveColumns } from '../../functions/core/jobs/sql-job.js';
import { column } from '../../functions/core/schema/model.js';

const Q = 'SELECT 1 AS n WHERE {window_start:DateTime64(3)} < {window_end:DateTime64(3)}';

describe('job files', () => {
  it('reads the header and the query, and where the query starts', () => {
    const { job, problems } = parseSqlJobFile('f.sql', 'my-job', `-- window: hourly\n-- lateness: 15m\n-- description: d\n-- order_by: a, b\n-- max_rows: 10\n\n${Q};\n`);
    assert.deepEqual(problems, []);
    assert.equal(job!.table, 'my_job');
    assert.deepEqual([job!.window, job!.latenessMs, job!.orderBy, job!.maxRows, job!.sqlLine, job!.sql], ['hourly', 900_000, ['a', 'b'], 10, 7, Q]);
  });

  it('names every problem with its line', () => {
    const { job, problems } = parseSqlJobFile('f.sql', 'Bad Name', '-- window: daily\n-- lateness: soon\n-- max_rows: -1\n-- description: d\n-- order_by: n\n-- window: hourly\nSELECT {x:String} AS n');
    assert.equal(job, undefined);
    assert.deepEqual(problems.map((p) => `${p.line}: ${p.message.split(/[(:]/)[0]!.trim()}`), [
      '0: the job\'s name "Bad Name"',
      '6: window is given twice',
      '2: lateness "soon" is not a duration',
      '3: max_rows must be a whole number ≥ 1, not "-1"',
      '7: the query must read its window through {window_start',
      '7: the query must read its window through {window_end',
      '7: unknown parameter {x',
    ]);
  });

  it('parses durations and refuses a lateness of a day or more', () => {
    assert.deepEqual(['0', '90s', '30m', '2h', '1d', '5'].map(parseDuration), [0, 90_000, 1_800_000, 7_200_000, 86_400_000, undefined]);
    assert.match(parseSqlJobFile('f.sql', 'j', `-- window: daily\n-- lateness: 1d\n-- description: d\n-- order_by: n\n${Q}`).problems[0]!.message, /under a day/);
  });

  it('maps ClickHouse result types to lake column types, refusing the ones a column cannot hold', () => {
    assert.deepEqual(['String', 'LowCardinality(Nullable(String))', 'UInt8', 'UInt64', 'Float32', 'Decimal(18, 2)', 'Bool', 'Date32', "DateTime64(3, 'UTC')", 'Nullable(Int64)'].map(columnTypeOf),
      [{ type: 'string', nullable: false }, { type: 'string', nullable: true }, { type: 'int32', nullable: false }, { type: 'int64', nullable: false }, { type: 'double', nullable: false },
        { type: 'double', nullable: false }, { type: 'boolean', nullable: false }, { type: 'date', nullable: false }, { type: 'timestamp', nullable: false }, { type: 'int64', nullable: true }]);
    assert.deepEqual(['Array(UInt8)', 'Map(String, UInt8)', 'Tuple(UInt8)'].map(columnTypeOf), [undefined, undefined, undefined]);
  });

  it('evolves output columns additively: kept in order, new ones appended, type changes refused', () => {
    const c = (name: string, type: 'string' | 'int64', nullable = false) => column(name, type, nullable, '', 'declared');
    assert.deepEqual(evolveColumns([c('a', 'string'), c('b', 'int64', true)], [c('c', 'int64'), c('a', 'string')], 'j').map((x) => x.name), ['a', 'b', 'c']);
    assert.throws(() => evolveColumns([c('a', 'string')], [c('a', 'int64')], 'j'), /a is now int64, the output table has string/);
    assert.throws(() => evolveColumns([c('a', 'string')], [c('b', 'int64')], 'j'), /a is gone from the query/);
  });
});
