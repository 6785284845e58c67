// The bad-input corpus (test/fixtures/bad-input/*.json): every kind goes through the handler in one batch
// between valid records, lands in quarantine with its expected reason, and nothing else is affected.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { QUARANTINE_REASONS } from '../../functions/core/quarantine/reasons.js';
import { NOW, pageView } from '../helpers.js';

interface Fixture {
  file: string;
  description: string;
  value?: string | null;
  value_base64?: string;
  key?: string;
  generate?: { kind: 'large'; bytes: number } | { kind: 'deep'; depth: number; field?: 'event_id' | 'user_id' | 'ts' } | { kind: 'wide'; properties: number } | { kind: 'almost-number'; digits: number };
  expect: string;
}

const DIR = join(PACKAGE_ROOT, 'test/fixtures/bad-input');
const fixtures: Fixture[] = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((file) => ({ file, ...JSON.parse(readFileSync(join(DIR, file), 'utf8')) }));
const TS = '2026-11-19T10:00:00Z';

function valueOf(f: Fixture): Buffer | null {
  if (f.value_base64 !== undefined) return Buffer.from(f.value_base64, 'base64');
  if (f.generate?.kind === 'large') return Buffer.from(JSON.stringify({ event: 'page_view', ts: TS, properties: { blob: 'x'.repeat(f.generate.bytes) } }));
  if (f.generate?.kind === 'deep') {
    const deep = `${'['.repeat(f.generate.depth)}${']'.repeat(f.generate.depth)}`;
    const field = f.generate.field;
    if (field) return Buffer.from(`{"event":"page_view",${field === 'ts' ? '' : `"ts":"${TS}",`}"${field}":${deep},"properties":{"page":"/"}}`);
    return Buffer.from(`{"event":"page_view","ts":"${TS}","properties":{"deep":${deep}}}`);
  }
  if (f.generate?.kind === 'almost-number') {
    const price = `${'1'.repeat(f.generate.digits)}x`;
    return Buffer.from(JSON.stringify({ event: 'purchase', event_id: 'almost', ts: TS, user_id: 'u1', properties: { order_id: 'o1', price } }));
  }
  if (f.generate?.kind === 'wide') {
    const properties = Object.fromEntries(Array.from({ length: f.generate.properties }, (_, i) => [`p${i}`, i]));
    return Buffer.from(JSON.stringify({ event: 'page_view', ts: TS, properties }));
  }
  return f.value === null || f.value === undefined ? null : Buffer.from(f.value, 'utf8');
}

let rt: LocalRuntime;
before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-bad-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => NOW });
});
after(async () => rt.close());

const record = (offset: number, value: Buffer | null, key?: string) => ({ topic: 'bad', partition: 0, offset, timestamp: NOW - 60_000, key: key ? Buffer.from(key) : null, value });

describe('bad-input corpus', () => {
  it('has at least 30 kinds, each expecting a known reason', () => {
    assert.ok(fixtures.length >= 30, `${fixtures.length} fixtures`);
    for (const f of fixtures) assert.ok(f.expect in QUARANTINE_REASONS, `${f.file}: ${f.expect}`);
  });

  it('quarantines every kind with its reason in one batch, and stores the valid records around them', async () => {
    // The tables exist first, as in production: page_view inferred, purchase declared.
    await ingestBatch(encodeMskEvent([record(0, Buffer.from(JSON.stringify(pageView('seed', {}, TS))))]), rt.deps);
    const records = [];
    let offset = 1;
    for (const f of fixtures) {
      records.push(record(offset++, Buffer.from(JSON.stringify(pageView(`good-${offset}`, {}, TS)))));
      records.push(record(offset++, valueOf(f), f.key));
    }
    const report = await ingestBatch(encodeMskEvent(records), rt.deps);
    assert.equal(report.recordsIn, fixtures.length * 2);
    assert.equal(report.stored, fixtures.length);
    assert.equal(report.quarantined, fixtures.length);

    const rows = await rt.warehouse.query<{ _offset: string; reason: string; detail: string }>(
      `SELECT _offset, reason, detail FROM tributary_ops._quarantine WHERE _topic = 'bad' ORDER BY _offset`);
    const byOffset = new Map(rows.map((r) => [Number(r._offset), r]));
    fixtures.forEach((f, i) => {
      const q = byOffset.get(2 + 2 * i);
      assert.ok(q, `${f.file} is in quarantine`);
      assert.equal(q.reason, f.expect, `${f.file}: ${q.detail}`);
      assert.ok(q.detail.length > 0 && q.detail.length < 400, `${f.file}: a readable detail`);
    });

    // The partition is not blocked: the next batch on it goes through.
    const next = await ingestBatch(encodeMskEvent([record(offset, Buffer.from(JSON.stringify(pageView('after', {}, TS))))]), rt.deps);
    assert.equal(next.stored, 1);
    assert.deepEqual((await rt.warehouse.query<{ n: string }>(`SELECT count() AS n FROM tributary.page_view WHERE _topic = 'bad'`)).map((r) => Number(r.n)), [fixtures.length + 2]);
  });
});
