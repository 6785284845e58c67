// Found by the process chaos harness (issue 25): a late record committed into a closed hour while a compaction
// of that hour was running was invisible through the catalog until the next compaction (an hour later on
// the deployed schedule). Ingest had looked the partition's version up before the switch and written its
// file into the version the catalog had just left. Both orders of the race, made deterministic here.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactPartition } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import type { ObjectStore } from '../../functions/core/ports.js';
import { mskEvent, NOW, pageView, lakeIdsOfHour } from '../helpers.js';

let rt: LocalRuntime;
let nextOffset = 0;
const DT = '2026-11-19';

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-stragglers-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => NOW });
});
after(async () => rt.close());

const at = (hour: number, minute: number): string => `${DT}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

async function send(ids: readonly string[], hour: number, store: ObjectStore = rt.deps.store): Promise<void> {
  const event = mskEvent(ids.map((id, i) => pageView(id, { n: i }, at(hour, i % 60))), { topic: 'web', firstOffset: nextOffset });
  nextOffset += ids.length;
  await ingestBatch(event, { ...rt.deps, store });
}

const lakeIds = (hour: number): Promise<string[]> => lakeIdsOfHour(rt, hour);

describe('late data racing a compaction of its hour', () => {
  it('written before the switch into the version being replaced: readable through the catalog right after the switch', async () => {
    const hour = 8;
    await send(['a1', 'a2'], hour);
    await send(['a3'], hour);
    const racing = rt.compaction({}, async (step) => {
      // Compaction has read its inputs and written its files; the catalog still points at version 0.
      if (step === 'manifest') await send(['late-1'], hour);
    });
    const r = await compactPartition('page_view', { dt: DT, hour }, racing);
    assert.equal(r.version, 1);
    assert.deepEqual(await lakeIds(hour), ['a1', 'a2', 'a3', 'late-1']);
    // The next compaction folds the copy and the original into one row.
    await compactPartition('page_view', { dt: DT, hour }, rt.compaction());
    assert.deepEqual(await lakeIds(hour), ['a1', 'a2', 'a3', 'late-1']);
  });

  it('looked up before the switch, written after it: readable through the catalog when ingest returns', async () => {
    const hour = 9;
    await send(['b1', 'b2'], hour);
    // The whole compaction runs between ingest's version lookup and its write.
    let raced = false;
    const store: ObjectStore = {
      ...rt.deps.store,
      uri: (k) => rt.deps.store.uri(k),
      get: (k) => rt.deps.store.get(k),
      list: (p, range) => rt.deps.store.list(p, range),
      delete: (k) => rt.deps.store.delete(k),
      put: (k, b, o) => rt.deps.store.put(k, b, o),
      async putIfAbsent(key, body, options) {
        if (!raced && key.startsWith(`lake/page_view/dt=${DT}/hour=09/`)) {
          raced = true;
          assert.equal((await compactPartition('page_view', { dt: DT, hour }, rt.compaction())).version, 1);
        }
        return rt.deps.store.putIfAbsent(key, body, options);
      },
    };
    await send(['late-2'], hour, store);
    assert.ok(raced);
    assert.deepEqual(await lakeIds(hour), ['b1', 'b2', 'late-2']);
  });
});
