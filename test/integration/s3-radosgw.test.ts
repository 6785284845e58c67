// The S3 adapter and the lake against a real S3 API server (Ceph radosgw on loopback).
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { DuckDbCompactionEngine } from '../../functions/adapters/compaction/duckdb-engine.js';
import { S3_CLIENT_CONFIG, S3Store } from '../../functions/adapters/object-store/s3.js';
import { compactPartition } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { duckRows, tempParquet } from '../duckdb.js';
import { mskEvent, NOW, pageView, recordingWarehouse } from '../helpers.js';
import { startRadosgw, type Radosgw } from '../s3/radosgw.js';

const started = await startRadosgw();
const skip = 'unavailable' in started ? started.unavailable : false;
if (skip) console.log(`# SKIP S3 integration tests: ${skip}`);
const rgw = started as Radosgw;
after(async () => { if (!skip) await rgw.stop(); });

let buckets = 0;
async function freshStore(extra: Record<string, unknown> = {}, options: { multipartThreshold?: number; partSize?: number } = {}): Promise<{ store: S3Store; bucket: string }> {
  const bucket = `tributary-test-${++buckets}`;
  await rgw.createBucket(bucket);
  return { store: new S3Store(rgw.client({ ...S3_CLIENT_CONFIG, ...extra }), { bucket, ...options }), bucket };
}

/** A proxy in front of radosgw that records request headers and answers the first `failures` with 503 SlowDown. */
async function flakyProxy(failures: number): Promise<{ endpoint: string; seen: () => number; headers: Array<Record<string, unknown>>; close: () => Promise<void> }> {
  const target = new URL(rgw.endpoint);
  let seen = 0;
  const headers: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    seen++;
    headers.push({ method: req.method, url: req.url, ...req.headers });
    if (seen <= failures) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: () => seen,
    headers,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const JSON_TYPE = { contentType: 'application/json' };

describe('S3Store on radosgw', () => {
  it('puts and gets small objects with their content type and a CRC32 checksum on the request', { skip }, async () => {
    const proxy = await flakyProxy(0);
    try {
      const { store, bucket } = await freshStore({ endpoint: proxy.endpoint });
      await store.put('lake/t/dt=2026-11-19/hour=10/a.parquet', Buffer.from('PAR1 data'), { contentType: 'application/vnd.apache.parquet' });
      assert.equal(Buffer.from((await store.get('lake/t/dt=2026-11-19/hour=10/a.parquet'))!).toString(), 'PAR1 data');
      const head = await rgw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'lake/t/dt=2026-11-19/hour=10/a.parquet' }));
      assert.equal(head.ContentType, 'application/vnd.apache.parquet');
      // radosgw 16 does not store flexible checksums; S3 verifies the one the request carries.
      const put = proxy.headers.find((h) => h['method'] === 'PUT')!;
      assert.match(String(put['x-amz-checksum-crc32'] ?? put['x-amz-trailer']), /^(.{8}|x-amz-checksum-crc32)$/);
      assert.equal(await store.get('lake/missing'), undefined);
    } finally {
      await proxy.close();
    }
  });

  it('uploads large bodies in parts, byte for byte', { skip }, async () => {
    const { store, bucket } = await freshStore({}, { multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    const body = Buffer.alloc(13 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    await store.put('big.bin', body, { contentType: 'application/octet-stream' });
    const back = Buffer.from((await store.get('big.bin'))!);
    assert.equal(back.length, body.length);
    assert.ok(back.equals(body));
    const head = await rgw.client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.match(head.ETag ?? '', /-3"$/, 'a multipart ETag names its 3 parts');
  });

  it('lets exactly one of many concurrent conditional writers win', { skip }, async () => {
    const { store } = await freshStore();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.putIfAbsent('_registry/events/t/v00000001.json', Buffer.from(`{"writer":${i}}`), JSON_TYPE)));
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal(Buffer.from((await store.get('_registry/events/t/v00000001.json'))!).toString(), `{"writer":${winner}}`);
  });

  it('lists past one page and deletes in batches of at most 1,000 keys', { skip }, async () => {
    const { store } = await freshStore();
    const keys = Array.from({ length: 1_050 }, (_, i) => `lake/t/dt=2026-11-19/hour=${String(i % 24).padStart(2, '0')}/f${String(i).padStart(5, '0')}.parquet`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from('x'), { contentType: 'application/octet-stream' })));
    assert.deepEqual(await store.list('lake/t/'), [...keys].sort());
    assert.equal((await store.list('lake/t/dt=2026-11-19/hour=07/')).length, 44);
    await store.delete([...keys, 'lake/t/never-existed.parquet']);
    assert.deepEqual(await store.list('lake/'), []);
  });

  it('rides out 503 SlowDown answers with backoff', { skip }, async () => {
    const proxy = await flakyProxy(3);
    try {
      const { store } = await freshStore({ endpoint: proxy.endpoint });
      await store.put('k', Buffer.from('v'), JSON_TYPE);
      assert.equal(proxy.seen(), 4, 'three throttled attempts, then success');
      assert.equal(Buffer.from((await store.get('k'))!).toString(), 'v');
    } finally {
      await proxy.close();
    }
  });

  it('holds the lake end to end: ingest, then compaction that downloads, dedupes and uploads', { skip }, async () => {
    const { store } = await freshStore();
    const catalog = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-s3-catalog-')));
    const deps = { store, catalog, warehouse: recordingWarehouse(), registry: new SchemaRegistry(store, { clock: () => NOW }), clock: () => NOW };
    const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
    await ingestBatch(mskEvent(ids.slice(0, 20).map((id) => pageView(id))), deps);
    await ingestBatch(mskEvent(ids.slice(10).map((id) => pageView(id)), { firstOffset: 20 }), deps);
    assert.equal((await store.list('lake/page_view/')).length, 2);
    assert.equal((await store.list('_registry/events/page_view/')).length, 1);

    const result = await compactPartition('page_view', { dt: '2026-11-19', hour: 10 }, {
      store, catalog, engine: new DuckDbCompactionEngine({ scratchDir: mkdtempSync(join(tmpdir(), 'tributary-s3-scratch-')) }), clock: () => NOW,
    });
    assert.equal(result.outcome, 'compacted');
    assert.equal(result.rowsIn, 40);
    assert.equal(result.rowsOut, 30);
    const [p] = await catalog.listPartitions('page_view');
    assert.match(p!.location, /^s3:\/\/tributary-test-\d+\/lake\/page_view\/dt=2026-11-19\/hour=10\/_v0001\/$/);
    const out = await store.get('lake/page_view/dt=2026-11-19/hour=10/_v0001/part-00000.parquet');
    const rows = await duckRows(`SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM read_parquet('${tempParquet(out!)}')`);
    assert.deepEqual(rows.map((r) => [Number(r['n']), Number(r['ids'])]), [[30, 30]]);
  });
});
