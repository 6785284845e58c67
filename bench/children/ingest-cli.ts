// `tributary ingest <file>` as the command runs it: a fresh local store (directory lake, JSON catalog,
// chDB), the file cut into batches by the command's rule, every batch through the real handler. Timed
// from the file's first byte to the last insert; opening the store is reported apart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestFile } from '../../functions/cli/commands/ingest.js';
import { openLocalRuntime } from '../../functions/cli/local-runtime.js';
import { args, report } from './common.js';

const { arg, file } = args(); // arg: `default`, or a --batch-size
const now = Date.now();
const opened = performance.now();
const runtime = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'bench-ingest-')), clock: () => now });
const openSeconds = (performance.now() - opened) / 1000;
const t = performance.now();
const s = await ingestFile({ file, ...(arg === 'default' ? {} : { batchSize: Number(arg) }) }, runtime.deps);
const seconds = (performance.now() - t) / 1000;
await runtime.close();
if (s.stored + s.quarantined !== s.recordsIn) throw new Error(`ingest: ${s.recordsIn} in, ${s.stored} stored, ${s.quarantined} quarantined`);
report({ name: `ingest:${arg}`, events: s.recordsIn, seconds, openSeconds, files: s.files, batches: s.batches, bytesOut: s.bytes });
