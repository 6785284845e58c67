// `tributary sql` as a user runs it: one statement, reads only unless --write, in the tributary database,
// in the format asked for (or the query's own), from the command line or a file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-cli-sql-'));
const sql = async (...args: string[]): Promise<string> =>
  (await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'sql', ...args], { env: { ...process.env, TRIBUTARY_HOME: home }, cwd: PACKAGE_ROOT })).stdout;
type Failed = { code: number; stdout: string; stderr: string };

describe('tributary sql', () => {
  it('hints at npm start when a table is missing from a store with no data yet', async () => {
    await assert.rejects(sql('SELECT count() FROM page_view'), (e: Failed) =>
      e.code === 1 && /^tributary: ClickHouse: .*page_view.* has no data yet: run npm start/.test(e.stderr) && e.stderr.split('\n').length === 2);
  });

  it('refuses several statements in one call, and runs none of them', async () => {
    await sql('--write', 'CREATE TABLE keep (a UInt8) ENGINE = MergeTree ORDER BY a');
    await assert.rejects(sql('SELECT 1; DROP TABLE keep'), (e: Failed) => e.code === 2 && /one statement per call/.test(e.stderr));
    await assert.rejects(sql('--write', 'SELECT 1; DROP DATABASE tributary'), (e: Failed) => e.code === 2 && /one statement per call/.test(e.stderr));
    assert.equal(await sql('EXISTS TABLE keep', '--format', 'csv'), '"result"\n1\n');
  });

  it('runs reads only unless --write is given', async () => {
    for (const write of ['DROP DATABASE tributary', 'DROP TABLE keep', 'INSERT INTO keep VALUES (1)', "INSERT INTO FUNCTION file('x.csv', CSV, 'a UInt8') SELECT 1",
      `SELECT 1 INTO OUTFILE '${join(home, 'out.csv')}'`, 'CREATE TABLE other (a UInt8) ENGINE = Memory', 'SET readonly = 0']) {
      await assert.rejects(sql(write), (e: Failed) => e.code === 2 && /pass --write/.test(e.stderr), write);
    }
    await assert.rejects(sql('SELECT 1 SETTINGS readonly = 0'), (e: Failed) => e.code === 1 && /readonly/.test(e.stderr));
    assert.equal(await sql('SELECT count() AS n FROM keep', '--format', 'csv'), '"n"\n0\n');
    assert.equal(await sql('--write', 'INSERT INTO keep VALUES (7)'), '');
    assert.equal(await sql('SELECT a FROM keep', '--format', 'csv'), '"a"\n7\n');
  });

  it('runs in the tributary database by default', async () => {
    assert.equal(await sql('SELECT currentDatabase() AS db', '--format', 'tsv'), 'db\ntributary\n');
  });

  it('prints table, csv, tsv, json and jsonl, and honours the query\'s own FORMAT clause', async () => {
    const q = "SELECT number AS n, concat('v', toString(number)) AS s FROM numbers(2)";
    assert.equal(await sql(q), 'n  s\n─  ──\n0  v0\n1  v1\n');
    assert.equal(await sql(q, '--format', 'csv'), '"n","s"\n0,"v0"\n1,"v1"\n');
    assert.equal(await sql(q, '--format', 'tsv'), 'n\ts\n0\tv0\n1\tv1\n');
    assert.deepEqual(JSON.parse(await sql(q, '--format', 'json')), [{ n: 0, s: 'v0' }, { n: 1, s: 'v1' }]);
    assert.deepEqual((await sql(q, '--format', 'jsonl')).trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ n: 0, s: 'v0' }, { n: 1, s: 'v1' }]);
    assert.equal(await sql(`${q} FORMAT CSV`), '0,"v0"\n1,"v1"\n');
    assert.equal(await sql(`${q} FORMAT JSONEachRow;`), '{"n":0,"s":"v0"}\n{"n":1,"s":"v1"}\n');
    await assert.rejects(sql(`${q} FORMAT CSV`, '--format', 'json'), (e: Failed) => e.code === 2 && /own FORMAT CSV/.test(e.stderr));
  });

  it('reads the query from a file with -f', async () => {
    const file = join(home, 'query.sql');
    writeFileSync(file, '-- how many\nSELECT 40 + 2 AS answer\n');
    assert.equal(await sql('-f', file, '--format', 'csv'), '"answer"\n42\n');
    await assert.rejects(sql('-f', file, 'SELECT 1'), (e: Failed) => e.code === 2 && /not both/.test(e.stderr));
  });
});
