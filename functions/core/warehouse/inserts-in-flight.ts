/**
 * ClickHouse inserts an ingest invocation keeps in flight at once (one per table of its batch). 32: a batch
 * of 50 event types makes 50 inserts, and at 8 at a time their ~60 ms round trips kept a 0.5 s batch (10k
 * events/s) or a 10,000-record one (100k events/s on 4 partitions) from ending before the next one filled
 * (docs/benchmarks.md, 2026-12-06). The deployed ClickHouse client keeps as many sockets
 * (adapters/aws-services.ts): its default of 10 would queue the rest.
 */
export const INSERTS_IN_FLIGHT = 32;
