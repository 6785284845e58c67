// The production-shape model of `npm run bench:scale`: the grid, how the MSK event source mapping turns a
// traffic into invocations, and how counted requests and measured time become $ per GB. No I/O here.
import { readFileSync } from 'node:fs';

export type Topology = 'coupled' | 'split';

export interface GridPoint {
  readonly partitions: number;
  readonly eventTypes: number;
  /** events per second on the topic */
  readonly traffic: number;
  /** the mapping's MaximumBatchingWindowInSeconds (the fresh path's in `split`) */
  readonly windowS: number;
  readonly topology: Topology;
}

export const GRID = {
  partitions: [4, 16, 64],
  eventTypes: [5, 50],
  traffic: [1_000, 10_000, 100_000],
  windowS: [0.5, 5, 60],
  topology: ['coupled', 'split'] as Topology[],
};

export function gridPoints(): GridPoint[] {
  const out: GridPoint[] = [];
  for (const topology of GRID.topology) for (const eventTypes of GRID.eventTypes) for (const partitions of GRID.partitions) {
    for (const traffic of GRID.traffic) for (const windowS of GRID.windowS) out.push({ partitions, eventTypes, traffic, windowS, topology });
  }
  return out;
}

/** Lambda's limits for an MSK mapping (docs: msk-esm-parameters, with-msk-process, kafka-scaling-modes). */
export const ESM = {
  maxBatchSize: 10_000,
  /** synchronous invocation payload */
  maxPayloadBytes: 6 * 1024 * 1024,
  /** what one event poller handles, MSK/Kafka (kafka-scaling-modes) */
  pollerBytesPerS: 5 * 1024 * 1024,
  pollerConcurrency: 5,
};

/** The batch size the bench configures (prod's cdk.json setting, the mapping's maximum). */
export const BATCH_SIZE = 10_000;

export interface BatchShape {
  /** records per invocation */
  readonly records: number;
  /** topic-partitions whose records one invocation carries */
  readonly partitionsPerBatch: number;
  readonly invocationsPerS: number;
  readonly pollers: number;
  /** what closed the batch */
  readonly closedBy: 'window' | 'batch size' | 'payload';
}

/** The largest batch the mapping sends: BatchSize, or fewer records when 6 MB of payload come first. */
export function maxBatchRecords(payloadBytesPerRecord: number): number {
  return Math.min(BATCH_SIZE, Math.floor(ESM.maxPayloadBytes / payloadBytesPerRecord));
}

/**
 * What the AWS docs say (read 2026-12-06): Lambda reads each partition in order; "a single Lambda payload
 * can contain messages from multiple partitions"; a batch is sent when BatchSize records, 6 MB of payload or
 * the batching window is reached; an event poller handles up to 5 MB/s. Modelled: ceil(MB/s ÷ 5) pollers
 * share the partitions evenly, and each batch carries the records its poller read from all its partitions
 * during the window. BENCH_SCALE_ESM=per-partition models one partition per batch instead (what the
 * issue's first estimate assumed: more, smaller invocations).
 */
export function batchShape(p: GridPoint, payloadBytesPerRecord: number, mode: 'mixed' | 'per-partition'): BatchShape {
  const bytesPerS = p.traffic * payloadBytesPerRecord;
  const pollers = mode === 'per-partition' ? p.partitions : Math.min(p.partitions, Math.max(1, Math.ceil(bytesPerS / ESM.pollerBytesPerS)));
  const partitionsPerBatch = Math.ceil(p.partitions / pollers);
  const arriving = (p.traffic / pollers) * p.windowS;
  const byPayload = Math.floor(ESM.maxPayloadBytes / payloadBytesPerRecord);
  const records = Math.max(1, Math.floor(Math.min(maxBatchRecords(payloadBytesPerRecord), arriving)));
  const closedBy = records === Math.floor(arriving) ? 'window' : records === byPayload ? 'payload' : 'batch size';
  return { records, partitionsPerBatch, invocationsPerS: p.traffic / records, pollers, closedBy };
}

export interface Price { readonly usd: number; readonly unit: string; readonly source: string; readonly read: string; readonly verified: boolean }
export interface Prices { readonly region: string; readonly read: string; readonly prices: Readonly<Record<string, Price>> }

export function loadPrices(path: string): Prices {
  return JSON.parse(readFileSync(path, 'utf8')) as Prices;
}

/** Requests and compute per hour, the inputs of the cost. */
export interface HourlyUse {
  readonly invocations: number;
  readonly ingestGbSeconds: number;
  readonly compactionGbSeconds: number;
  readonly s3Put: number;
  readonly s3Get: number;
  readonly glue: number;
  readonly gbIngested: number;
}

export function tributaryUsdPerGb(u: HourlyUse, prices: Prices): number {
  return [...tributaryUsdBreakdown(u, prices).values()].reduce((a, b) => a + b, 0);
}

/** $ per GB by what is billed: requests, Lambda GB-s (ingest incl. the materializer, compaction), S3, Glue. */
export function tributaryUsdBreakdown(u: HourlyUse, prices: Prices): Map<string, number> {
  const p = (k: string): number => prices.prices[k]!.usd;
  return new Map([
    ['requests', u.invocations * p('lambdaRequest')], ['GB-s', u.ingestGbSeconds * p('lambdaArmGbSecond')], ['compaction GB-s', u.compactionGbSeconds * p('lambdaArmGbSecond')],
    ['S3 PUT', u.s3Put * p('s3PutRequest')], ['S3 GET', u.s3Get * p('s3GetRequest')], ['Glue', u.glue * p('glueCatalogRequest')],
  ].map(([k, v]) => [k as string, (v as number) / u.gbIngested]));
}

export interface FirehoseShape {
  readonly gbIngested: number;
  readonly gbParquet: number;
  readonly records: number;
  /** (table, hour) partitions per hour: its dynamic-partitioning prefixes */
  readonly tables: number;
}

/** Firehose's maximum buffering interval: the fewest objects (and the cheapest Firehose) per prefix. */
export const FIREHOSE_BUFFER_S = 900;
export const FIREHOSE_BUFFER_BYTES = 128 * 1024 * 1024;

/**
 * Firehose from MSK with Parquet conversion and dynamic partitioning by (event, dt, hour), per GB of
 * NDJSON. `rounded`: conversion billed in 5 KB steps per record, as the pricing page says; otherwise the
 * lower bound without that rounding (the bench compares against the lower bound: the harder goal).
 */
export function firehoseUsdPerGb(s: FirehoseShape, prices: Prices, rounded: boolean): number {
  const p = (k: string): number => prices.prices[k]!.usd;
  const convertedGb = rounded ? (s.records * 5 * 1024) / 1e9 : s.gbIngested;
  const perTable = s.gbParquet / s.tables;
  const objects = s.tables * Math.max(3600 / FIREHOSE_BUFFER_S, Math.ceil((perTable * 1e9) / FIREHOSE_BUFFER_BYTES));
  const usd = s.gbIngested * p('firehoseMskIngestGb') + convertedGb * p('firehoseFormatConversionGb') + s.gbParquet * p('firehoseDynamicPartitioningGb')
    + objects * (p('firehoseDynamicPartitioningObject') + p('s3PutRequest'));
  return usd / s.gbIngested;
}

/** One streaming ClickPipe with its default XS replica: the ClickHouse half only (no lake, no catalog). */
export function clickPipesUsdPerGb(gbPerHour: number, prices: Prices): number {
  const p = (k: string): number => prices.prices[k]!.usd;
  return p('clickPipesIngestGb') + (0.0625 * p('clickPipesComputeUnitHour')) / gbPerHour;
}

/** Lambda's smallest memory: the floor bills the waits a function cannot avoid at this size. */
export const LAMBDA_MIN_MEMORY_MB = 128;

export interface FloorInput {
  readonly topology: Topology;
  /** the coupled mapping's invocations per hour, or the fresh path's in split (fixed by the window and the pollers) */
  readonly invPerH: number;
  /** the lake path's fewest invocations per hour in split (a batch per poller per lake budget) */
  readonly lakeInvPerH: number;
  /** seconds each fresh invocation must wait for ClickHouse: an insert's round trip, or the async flush */
  readonly clickhouseWaitS: number;
  /** per table, rows per hour (a table gets a lake file only when it has rows) */
  readonly rowsPerHByTable: readonly number[];
  /** seconds a table's rows may wait for their file: event → lake goal − the batch window */
  readonly lakeBudgetS: number;
  readonly gbIngested: number;
}

/**
 * The least any Lambda-based setting pays at a grid point, whatever its memory, lake writes, interval or
 * code: the invocation fee at the invocation rate the window fixes; each invocation billed at 128 MB for the
 * ClickHouse wait it cannot skip; coupled, a lake PUT per invocation (a spool object or a file); every table
 * a lake file per lake budget (event → lake ≤ 300 s) while it has rows; compaction's one output PUT per
 * table and hour and a GET per input file. Left out, so it is a lower bound: CPU time, Glue, the registry,
 * manifests and spool reads, compaction's CPU. $ per hour, by component.
 */
export function lambdaFloor(f: FloorInput, prices: Prices): { usdPerGb: number; parts: Array<[string, number]> } {
  const p = (k: string): number => prices.prices[k]!.usd;
  const filesPerH = f.rowsPerHByTable.reduce((n, rows) => n + Math.min(rows, 3600 / f.lakeBudgetS), 0);
  const tablesWithRows = f.rowsPerHByTable.filter((rows) => rows > 0).length;
  const parts: Array<[string, number]> = [
    ['invocation fee', (f.invPerH + (f.topology === 'split' ? f.lakeInvPerH : 0)) * p('lambdaRequest')],
    ['ClickHouse wait at 128 MB', f.invPerH * f.clickhouseWaitS * (LAMBDA_MIN_MEMORY_MB / 1024) * p('lambdaArmGbSecond')],
    ['lake PUT per invocation', (f.topology === 'coupled' ? f.invPerH : f.lakeInvPerH) * p('s3PutRequest')],
    ['a file per table per lake budget', filesPerH * p('s3PutRequest')],
    ['compaction output + reads', tablesWithRows * p('s3PutRequest') + filesPerH * p('s3GetRequest')],
  ];
  return { usdPerGb: parts.reduce((n, [, usd]) => n + usd, 0) / f.gbIngested, parts };
}

export interface PollerLoad {
  /** records per second arriving at one poller */
  readonly ratePerS: number;
  /** when a batch closes if the poller is idle: its window, or sooner when it fills */
  readonly closeS: number;
  /** records in that batch, and the invocation's billed time for it (CPU stretched by memory, waits, an async flush) */
  readonly records: number;
  readonly invocationS: number;
  /** the share of that time that grows with the records: CPU per record at this memory */
  readonly cpuPerRecordS: number;
  /** the largest batch the mapping sends (BatchSize, 6 MB of payload) */
  readonly maxRecords: number;
}

export interface PollerState {
  /** false: even full batches take longer than they take to arrive, so the lag grows without bound */
  readonly keepsUp: boolean;
  /** seconds a record waits for its batch to be sent, and the invocation that carries it, in the steady state */
  readonly closeS: number;
  readonly invocationS: number;
}

/**
 * One poller invokes one batch at a time (each partition in order), so while an invocation runs the next
 * batch gathers. An invocation that ends before its successor closes leaves the batches as the window makes
 * them. One that outlasts it makes the next batch larger, until an invocation takes as long as its batch
 * took to gather: B = r·F ÷ (1 − r·c), with r the records per second, c the time per record and F the rest
 * of an invocation (its waits, the async flush it waits for, fixed CPU). Past the mapping's largest batch it
 * can never catch up.
 */
export function pollerState(l: PollerLoad): PollerState {
  if (l.invocationS <= l.closeS) return { keepsUp: true, closeS: l.closeS, invocationS: l.invocationS };
  const fixedS = Math.max(0, l.invocationS - l.cpuPerRecordS * l.records);
  const perRecord = l.ratePerS * l.cpuPerRecordS;
  const records = perRecord < 1 ? (l.ratePerS * fixedS) / (1 - perRecord) : Infinity;
  if (records > l.maxRecords) return { keepsUp: false, closeS: l.maxRecords / l.ratePerS, invocationS: fixedS + l.cpuPerRecordS * l.maxRecords };
  return { keepsUp: true, closeS: records / l.ratePerS, invocationS: fixedS + l.cpuPerRecordS * records };
}
