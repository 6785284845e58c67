// One ingest invocation in a process of its own, as the function runs it: the schema files of a directory
// loaded as the handler loads them, one MSK event (a JSON file) through the real ingestBatch with
// in-memory ports. Prints the report's counts, the time and this process's peak RSS as one JSON line.
// Started by test/integration/schema-limits.test.ts with the ingest function's NODE_OPTIONS.
import { readFileSync } from 'node:fs';
import { SchemaFiles } from '../../../functions/adapters/schema-files.js';
import { ingestBatch } from '../../../functions/core/ingest.js';
import type { MskEvent } from '../../../functions/core/decode/msk-event.js';
import { SchemaRegistry } from '../../../functions/core/schema/registry.js';
import { memoryPorts } from '../../../bench/memory-ports.js';

const [schemasDir, eventFile, nowText] = process.argv.slice(2);
const now = Number(nowText);
const loadStarted = performance.now();
const ports = memoryPorts();
const registry = new SchemaRegistry(ports.store, { clock: () => now, declared: SchemaFiles.load(schemasDir!) });
const loadSeconds = (performance.now() - loadStarted) / 1000;
// parsed as the Lambda runtime parses its payload: the event's text, then the object
const event = JSON.parse(readFileSync(eventFile!, 'utf8')) as MskEvent;
const started = performance.now();
const r = await ingestBatch(event, { ...ports, registry, clock: () => now });
console.log(JSON.stringify({
  recordsIn: r.recordsIn, stored: r.stored, quarantined: r.quarantined, byReason: r.quarantinedByReason, schemaProblems: r.schemaProblems,
  loadSeconds, seconds: (performance.now() - started) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024,
}));
