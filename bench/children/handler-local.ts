// The real ingestBatch with the adapters of `npm start`: directory lake, JSON catalog, chDB inserts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { args, report } from './common.js';
import { runBatches } from './run-batches.js';

const { arg, file } = args();
const now = Date.now();
const runtime = await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'bench-local-')), clock: () => now });
const result = await runBatches(file, (event) => ingestBatch(event, runtime.deps)); // file: the events of batches of `arg`
await runtime.close();
report({ name: `local:${arg}`, ...result });
