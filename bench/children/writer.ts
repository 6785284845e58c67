// One Parquet writer on the coerced rows of the page_view table.
import { readFileSync } from 'node:fs';
import { rowsFor, writers } from '../writers.js';
import { args, report } from './common.js';

const { arg, file } = args();
const { columns, rows } = await rowsFor(readFileSync(file, 'utf8').split('\n').filter(Boolean), Date.now());
const write = writers[arg as keyof typeof writers];
const t = performance.now();
const bytesOut = (await write(columns, rows)).length;
// A writer's rate is rows of the table it encodes.
report({ name: `writer:${arg}`, events: rows.length, seconds: (performance.now() - t) / 1000, bytesOut });
