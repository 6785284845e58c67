// Found by the process chaos harness in spool mode (issue 25, `npm run chaos -- --lake-writes spool`): two
// materializer runs at once (a retry overlapping a slow run). Run B lists the manifests while none is open;
// run A then claims the spools, writes its files, lineage and offsets, and dies before marking its manifest
// consumed; B reads the offsets, finds every row of those spools materialized and deletes them (a run does
// that without a manifest: they look like a redelivery's). Every later run then met A's planned manifest,
// whose spools were gone, and threw: the materializer was stuck for good (nothing lost, the lake no longer
// fed). A planned manifest whose spools are gone after its offsets advanced is now finished as consumed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { materializeSpool, type MaterializeStep } from '../../functions/core/lake/materialize.js';
import { SPOOL_MANIFEST_PREFIX, SPOOL_PENDING_PREFIX } from '../../functions/core/lake/spool.js';
import type { ObjectStore } from '../../functions/core/ports.js';
import { mskEvent, NOW, pageView } from '../helpers.js';

let rt: LocalRuntime;
const DT = '2026-11-19';

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-spool-overlap-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => NOW });
});
after(async () => rt.close());

/** The store as run B saw it: its listing of the manifests happened before A claimed (none open). */
function listedBeforeTheClaim(store: ObjectStore): ObjectStore {
  return {
    put: (k, b, o) => store.put(k, b, o),
    putIfAbsent: (k, b, o) => store.putIfAbsent(k, b, o),
    get: (k) => store.get(k),
    delete: (k) => store.delete(k),
    list: async (prefix, range) => (prefix.startsWith(SPOOL_MANIFEST_PREFIX) ? [] : store.list(prefix, range)),
    uri: (k) => store.uri(k),
  };
}

describe('two materializer runs at once', () => {
  it('A dies after its offsets, B deletes the spools as materialized: the next run finishes A, every event once', async () => {
    const ids = ['e1', 'e2', 'e3'];
    const event = mskEvent(ids.map((id, i) => pageView(id, { n: i }, `${DT}T11:0${i}:00Z`)), { topic: 'web', firstOffset: 0 });
    await ingestBatch(event, { ...rt.deps, config: { ...rt.deps.config, sinks: { lake: true, warehouse: false }, lakeWrites: 'spool' } });
    const store = rt.deps.store;
    const catalog = rt.deps.catalog;

    // A: killed between its offsets step and marking the manifest consumed.
    const died = materializeSpool({ store, catalog, clock: () => NOW, onStep: (s: MaterializeStep) => { if (s === 'offsets') throw new Error('killed'); } });
    await assert.rejects(died, /killed/);
    assert.equal((await store.list(SPOOL_MANIFEST_PREFIX)).length, 1);

    // B: no manifest in its listing; the offsets say every row is materialized: it deletes the spool.
    const b = await materializeSpool({ store: listedBeforeTheClaim(store), catalog, clock: () => NOW });
    assert.equal(b.pending, 0);
    assert.deepEqual(await store.list(SPOOL_PENDING_PREFIX), []);

    // The next scheduled run, past A's lease: finishes A's manifest (it threw here before the fix).
    const next = await materializeSpool({ store, catalog, clock: () => NOW + 60 * 60_000 });
    assert.equal(next.outcome, 'done');
    assert.deepEqual(await store.list(SPOOL_MANIFEST_PREFIX), []);
    // And the one after has nothing to do.
    assert.equal((await materializeSpool({ store, catalog, clock: () => NOW + 62 * 60_000 })).outcome, 'idle');

    await rt.refreshLakeViews();
    const rows = await rt.warehouse.query<{ event_id: string }>(`SELECT event_id FROM lake.page_view WHERE hour = 11 ORDER BY event_id`);
    assert.deepEqual(rows.map((r) => r.event_id), ids);
  });
});
