// Text that UTF-8 cannot hold must not merge distinct inputs: JSON's `\ud800` escapes make strings with a
// lone UTF-16 surrogate, and encoding each of them to U+FFFD would turn three event_ids into one.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { unstorableText } from '../../functions/core/identifiers.js';
import { ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { memoryStore, mskEvent, NOW, pageView, recordingWarehouse } from '../helpers.js';

function deps(): IngestDeps {
  const store = memoryStore();
  return { store, catalog: new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-text-'))), warehouse: recordingWarehouse(), registry: new SchemaRegistry(store, { clock: () => NOW }), clock: () => NOW };
}

// The raw JSON text carries the escapes, as a producer's serialiser would write them.
const raw = (json: string): string => json;

describe('text with lone surrogates', () => {
  it('finds a lone surrogate and accepts a pair', () => {
    assert.equal(unstorableText('order-😀'), undefined);
    assert.equal(unstorableText('plain'), undefined);
    assert.match(unstorableText('order-\ud800') ?? '', /lone UTF-16 surrogate \\ud800 at character 6/);
    assert.match(unstorableText('\udc00x') ?? '', /\\udc00 at character 0/);
    assert.match(unstorableText('a\ud83d') ?? '', /\\ud83d at character 1/);
  });

  it('quarantines event_ids, user_ids and string properties that hold one, instead of storing them merged', async () => {
    const d = deps();
    const report = await ingestBatch(mskEvent([
      raw('{"event":"page_view","event_id":"order-\\ud800","ts":"2026-11-19T10:00:00Z","properties":{"page":"/"}}'),
      raw('{"event":"page_view","event_id":"order-\\udc00","ts":"2026-11-19T10:00:00Z","properties":{"page":"/"}}'),
      raw('{"event":"page_view","event_id":"order-\\udfff","ts":"2026-11-19T10:00:00Z","properties":{"page":"/"}}'),
      raw('{"event":"page_view","event_id":"u-1","user_id":"user-\\ud800","ts":"2026-11-19T10:00:00Z","properties":{"page":"/"}}'),
      raw('{"event":"page_view","event_id":"p-1","ts":"2026-11-19T10:00:00Z","properties":{"page":"/a\\udfff"}}'),
      raw('{"event":"page_view","event_id":"order-\\ud83d\\ude00","user_id":"\\ud83d\\ude00","ts":"2026-11-19T10:00:00Z","properties":{"page":"/\\ud83d\\ude00"}}'),
      pageView('ok'),
    ]), d);
    assert.equal(report.stored, 2);
    assert.deepEqual(report.quarantinedByReason, { invalid_event_id: 3, uncoercible_value: 2 });
    assert.equal(report.recordsIn, report.stored + report.quarantined);
  });

  it('keeps a lone surrogate inside a JSON column losslessly, as an escape', async () => {
    const d = deps();
    const report = await ingestBatch(mskEvent([raw('{"event":"click","event_id":"c1","ts":"2026-11-19T10:00:00Z","properties":{"meta":{"tag":"x\\ud800"}}}')]), d);
    assert.equal(report.stored, 1);
    assert.equal(report.columnsAdded.find((c) => c.column === 'meta')?.type, 'json');
  });
});
