// Found with the process chaos harness in spool mode (issue 25): the materializer keys a closed hour's file
// by the partition's version when it plans its manifest, and writes it later (at once, or after a crash and
// its lease, minutes later). A compaction of that hour switching the catalog in between left the file in
// the version being left: its rows, already counted in `_spool/offsets.json` and their spool deleted, were
// unreadable through the catalog until the next compaction (an hour later on the deployed schedule).
// Direct ingest had the same race fixed by looking the version up again after writing; now the
// materializer does too. Both orders, made deterministic here.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactPartition } from '../../functions/core/lake/compact-partition.js';
import { materializeSpool, type MaterializeStep } from '../../functions/core/lake/materialize.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { mskEvent, NOW, pageView, lakeIdsOfHour } from '../helpers.js';

let rt: LocalRuntime;
let nextOffset = 0;
const DT = '2026-11-19';

before(async () => {
  rt = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'tributary-spool-stragglers-')), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => NOW });
});
after(async () => rt.close());

const at = (hour: number, minute: number): string => `${DT}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

/** One batch through the lake path with spool writes. */
async function spool(ids: readonly string[], hour: number): Promise<void> {
  const event = mskEvent(ids.map((id, i) => pageView(id, { n: i }, at(hour, i % 60))), { topic: 'web', firstOffset: nextOffset });
  nextOffset += ids.length;
  await ingestBatch(event, { ...rt.deps, config: { ...rt.deps.config, sinks: { lake: true, warehouse: false }, lakeWrites: 'spool' } });
}

async function materialize(onStep?: (step: MaterializeStep) => Promise<void>): Promise<void> {
  const report = await materializeSpool({ store: rt.deps.store, catalog: rt.deps.catalog, clock: () => NOW, ...(onStep ? { onStep } : {}) });
  assert.equal(report.pending, 0);
}

const lakeIds = (hour: number): Promise<string[]> => lakeIdsOfHour(rt, hour);

describe('the materializer racing a compaction of a closed hour', () => {
  it('planned before the switch, written after it: readable through the catalog when the run returns', async () => {
    const hour = 8;
    await spool(['a1', 'a2'], hour);
    await materialize();
    await spool(['late-1'], hour);
    // The whole compaction runs between the manifest's plan (version 0) and its files.
    let compacted = 0;
    await materialize(async (step) => {
      if (step === 'planned') compacted = (await compactPartition('page_view', { dt: DT, hour }, rt.compaction())).version;
    });
    assert.equal(compacted, 1);
    assert.deepEqual(await lakeIds(hour), ['a1', 'a2', 'late-1']);
    // The next compaction folds the copy and the original into one row.
    await compactPartition('page_view', { dt: DT, hour }, rt.compaction());
    assert.deepEqual(await lakeIds(hour), ['a1', 'a2', 'late-1']);
  });

  it('written before the switch into the version being replaced: readable through the catalog after it', async () => {
    const hour = 9;
    await spool(['b1', 'b2'], hour);
    await materialize();
    await spool(['late-2'], hour);
    // The file is in version 0 before compaction lists; the catalog moves to version 1 after it.
    let compacted = 0;
    await materialize(async (step) => {
      if (step === 'written') compacted = (await compactPartition('page_view', { dt: DT, hour }, rt.compaction())).version;
    });
    assert.equal(compacted, 1);
    assert.deepEqual(await lakeIds(hour), ['b1', 'b2', 'late-2']);
  });
});
