// The pure part of compaction: what a partition's objects, manifests and catalog version say to do next.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCompactEnvironment } from '../../functions/compact/config.js';
import {
  expiredManifests, isSettled, MANIFEST_FORMAT, planCompaction, readPartitionObjects, type CompactionManifest,
} from '../../functions/core/lake/compaction-plan.js';
import { dataKey, parsePartitionKey, partitionPrefix, versionPrefix } from '../../functions/core/lake/layout.js';

const P = partitionPrefix('page_view', '2026-11-19', 10);
const raw = (first: number): string => dataKey('page_view', '2026-11-19', 10, [{ topic: 't', partition: 0, firstOffset: first, lastOffset: first + 9 }]);
const part = (v: number, i = 0): string => `${versionPrefix('page_view', '2026-11-19', 10, v)}part-${String(i).padStart(5, '0')}.parquet`;
const manifest = (version: number, inputs: string[], outputs: string[], switchedAt?: string): CompactionManifest => ({
  format: MANIFEST_FORMAT, table: 'page_view', dt: '2026-11-19', hour: 10, version, createdAt: '2026-11-19T12:00:00.000Z',
  inputs, outputs: outputs.map((key) => ({ key, rows: 1, bytes: 1 })), rowsIn: 2, rowsOut: 1, bytesIn: 2, bytesOut: 1,
  ...(switchedAt ? { switchedAt } : {}),
});

describe('lake keys of versions', () => {
  it('parse back into version and name, and refuse other shapes', () => {
    assert.deepEqual(parsePartitionKey(P, raw(0)), { version: 0, name: 't+0+0-9.parquet' });
    assert.deepEqual(parsePartitionKey(P, part(12)), { version: 12, name: 'part-00000.parquet' });
    assert.equal(parsePartitionKey(P, `${P}_v0001/nested/x.parquet`), undefined);
    assert.equal(parsePartitionKey(P, 'lake/other/x.parquet'), undefined);
  });
});

describe('planCompaction', () => {
  it('compacts raw files, and a single raw file too (it may hold duplicates)', () => {
    const objects = readPartitionObjects(P, [raw(0), raw(10)]);
    assert.deepEqual(planCompaction(objects, new Map(), 0), { action: 'compact', version: 1, inputs: [raw(0), raw(10)] });
    assert.equal(planCompaction(readPartitionObjects(P, [raw(0)]), new Map(), 0).action, 'compact');
    assert.deepEqual(planCompaction(readPartitionObjects(P, []), new Map(), 0), { action: 'none', reason: 'no data files' });
  });

  it('leaves a partition that is one compacted file alone', () => {
    const m = new Map([[1, manifest(1, [raw(0), raw(10)], [part(1)], '2026-11-19T12:00:00.000Z')]]);
    const objects = readPartitionObjects(P, [raw(0), raw(10), part(1), `${versionPrefix('page_view', '2026-11-19', 10, 1)}_manifest.json`]);
    assert.deepEqual(planCompaction(objects, m, 1), { action: 'none', reason: 'already compacted' });
  });

  it('leaves a partition alone that compaction wrote as several files, until something new arrives', () => {
    const m = new Map([[1, manifest(1, [raw(0), raw(10)], [part(1, 0), part(1, 1), part(1, 2)], '2026-11-19T12:00:00.000Z')]]);
    const written = [part(1, 0), part(1, 1), part(1, 2)];
    assert.deepEqual(planCompaction(readPartitionObjects(P, [raw(0), raw(10), ...written]), m, 1), { action: 'none', reason: 'already compacted' });
    const late = `${versionPrefix('page_view', '2026-11-19', 10, 1)}t+0+50-59.parquet`;
    assert.deepEqual(planCompaction(readPartitionObjects(P, [raw(0), raw(10), ...written, late]), m, 1), { action: 'compact', version: 2, inputs: [...written, late].sort() });
  });

  it('rewrites a compacted partition whose columns lag the table\'s', () => {
    const m = new Map([[1, manifest(1, [raw(0), raw(10)], [part(1)], '2026-11-19T12:00:00.000Z')]]);
    const objects = readPartitionObjects(P, [raw(0), raw(10), part(1)]);
    assert.deepEqual(planCompaction(objects, m, 1, true), { action: 'compact', version: 2, inputs: [part(1)] });
    assert.deepEqual(planCompaction(readPartitionObjects(P, []), new Map(), 0, true), { action: 'none', reason: 'no data files' });
  });

  it('includes late files in the current version and stragglers left in an older one', () => {
    const m = new Map([[1, manifest(1, [raw(0)], [part(1)], '2026-11-19T12:00:00.000Z')]]);
    const late = `${versionPrefix('page_view', '2026-11-19', 10, 1)}t+0+50-59.parquet`;
    const objects = readPartitionObjects(P, [raw(0), raw(20), part(1), late]);
    assert.deepEqual(planCompaction(objects, m, 1), { action: 'compact', version: 2, inputs: [raw(20), part(1), late].sort() });
  });

  it('finishes a compaction that wrote its manifest but did not switch, and never reads what a crashed run left', () => {
    const pending = manifest(1, [raw(0), raw(10)], [part(1)]);
    assert.deepEqual(planCompaction(readPartitionObjects(P, [raw(0), raw(10), part(1)]), new Map([[1, pending]]), 0), { action: 'switch', manifest: pending });
    const leftovers = readPartitionObjects(P, [raw(0), raw(10), part(1, 0), part(1, 1)]);
    assert.deepEqual(planCompaction(leftovers, new Map(), 0), { action: 'compact', version: 1, inputs: [raw(0), raw(10)] });
  });

  it('expires superseded inputs only after the retention delay, and only once', () => {
    const switched = manifest(1, [raw(0)], [part(1)], '2026-11-19T12:00:00.000Z');
    const m = new Map([[1, switched]]);
    const at = (iso: string): number => Date.parse(iso);
    assert.deepEqual(expiredManifests(m, 1, at('2026-11-19T12:59:00Z'), 3_600_000), []);
    assert.deepEqual(expiredManifests(m, 1, at('2026-11-19T13:00:00Z'), 3_600_000), [switched]);
    assert.deepEqual(expiredManifests(new Map([[1, { ...switched, inputsDeletedAt: '2026-11-19T13:00:00Z' }]]), 1, at('2026-11-19T14:00:00Z'), 3_600_000), []);
    assert.deepEqual(expiredManifests(new Map([[1, manifest(1, [raw(0)], [part(1)])]]), 1, at('2026-11-20T00:00:00Z'), 0), [], 'never before the switch');
  });
});

describe('compaction function configuration', () => {
  it('has defaults and refuses nonsense', () => {
    const c = readCompactEnvironment({ TRIBUTARY_BUCKET: 'b', TRIBUTARY_GLUE_DATABASE: 'g' });
    assert.equal(c.graceMs, 15 * 60_000);
    assert.equal(c.targetFileBytes, 256 * 1024 * 1024);
    assert.equal(c.retentionMs, 60 * 60_000);
    assert.throws(() => readCompactEnvironment({ TRIBUTARY_GLUE_DATABASE: 'g', TRIBUTARY_COMPACT_TARGET_MB: 'lots' }), /TRIBUTARY_BUCKET is missing; TRIBUTARY_COMPACT_TARGET_MB must be an integer ≥ 0/);
  });
});

describe('isSettled: a partition with nothing to do, from its keys alone', () => {
  const m = (v: number): string => `${versionPrefix('page_view', '2026-11-19', 10, v)}_manifest.json`;
  const claim = (v: number): string => `${versionPrefix('page_view', '2026-11-19', 10, v)}_claim.json`;
  it('holds for the catalog version\'s outputs and manifest, with earlier versions down to their manifests', () => {
    assert.equal(isSettled(1, P, [part(1), m(1)]), true);
    assert.equal(isSettled(2, P, [m(1), part(2), part(2, 1), m(2)]), true);
  });
  it('fails for anything a run still has to do', () => {
    assert.equal(isSettled(0, P, [raw(0)]), false, 'never compacted');
    assert.equal(isSettled(1, P, [raw(0), part(1), m(1)]), false, 'superseded inputs not deleted yet');
    assert.equal(isSettled(1, P, [part(1), m(1), `${versionPrefix('page_view', '2026-11-19', 10, 1)}t+0+50-59.parquet`]), false, 'late file ingest wrote into the current version');
    assert.equal(isSettled(1, P, [part(1), m(1), claim(1)]), false, 'a claim left by a run that crashed before marking');
    assert.equal(isSettled(1, P, [part(1), m(1), part(2)]), false, 'leftovers of a crashed next version');
    assert.equal(isSettled(1, P, [part(1)]), false, 'no manifest');
    assert.equal(isSettled(2, P, [part(1), m(1), part(2), m(2)]), false, 'the previous version\'s outputs not deleted yet');
    assert.equal(isSettled(1, P, [part(1), m(1), `${P}_v0001/nested/x.parquet`]), false, 'a key of another shape');
  });
});
