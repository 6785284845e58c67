// The real ingestBatch with in-memory ports: the handler's own cost, no storage or network.
import { SchemaFiles } from '../../functions/adapters/schema-files.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { memoryPorts } from '../memory-ports.js';
import { args, report } from './common.js';
import { runBatches } from './run-batches.js';

const { arg, file } = args();
const now = Date.now();
const ports = memoryPorts();
const registry = new SchemaRegistry(ports.store, { clock: () => now, declared: SchemaFiles.load(process.env['TRIBUTARY_SCHEMAS']!) });
const deps = { ...ports, registry, clock: () => now };
// file: the directory of MSK events of `arg` records each that the parent wrote
report({ name: `memory:${arg}`, ...(await runBatches(file, (event) => ingestBatch(event, deps))) });
