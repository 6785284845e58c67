// The Lambda event source mapping's batching window, on top of the ESM emulator's deliveries.
//
// Why the bench needs it: against librdkafka's mock cluster the emulator cannot form the mapping's batches.
// The mock answers a Fetch with at most one record batch per partition (`FIXME: Multiple messageSets ?` in
// rdkafka_mock_handlers.c), ignores MinBytes, and waits MaxWait only when it has nothing, without cutting
// the wait short when data arrives. So the emulator invokes once per producer request per partition
// (~5 records at 100 events/s), and its window only adds a wait when it is caught up. The mapping instead
// gathers from the first record until the window ends, BatchSize records or 6 MB, and "a single Lambda
// payload can contain messages from multiple partitions" (AWS, with-msk-process). This gathers the
// emulator's small deliveries into such batches and invokes the handler with each, one at a time, in order.
//
// The emulator is told its delivery was handled when it is gathered, so it commits offsets before the
// handler runs: harmless here (the bench injects no failures), and the price of not blocking its fetches.
import type { MskEvent, MskRecord } from '../../functions/core/decode/msk-event.js';

export interface GatherSettings {
  readonly windowMs: number;
  readonly batchSize: number;
  /** the invocation payload limit, 6 MB */
  readonly maxPayloadBytes?: number;
  readonly invoke: (event: MskEvent) => Promise<unknown>;
  /** invoked with each batch's records, handler time and error, after it ran */
  readonly onInvoked?: (o: { records: number; ms: number; error?: unknown }) => void;
}

interface Open {
  readonly records: Map<string, MskRecord[]>;
  count: number;
  bytes: number;
  timer?: NodeJS.Timeout;
  template: MskEvent;
}

export class WindowGatherer {
  private open: Open | undefined;
  private readonly closed: MskEvent[] = [];
  private running: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly s: GatherSettings) {}

  /** The emulator's handler: takes a delivery into the open batch and returns at once. */
  readonly add = async (event: MskEvent): Promise<void> => {
    const limit = this.s.maxPayloadBytes ?? 6 * 1024 * 1024;
    for (const [tp, records] of Object.entries(event.records)) {
      for (const r of records) {
        const size = JSON.stringify(r).length + tp.length + 8;
        if (this.open && (this.open.count >= this.s.batchSize || this.open.bytes + size > limit)) this.close();
        if (!this.open) {
          this.open = { records: new Map(), count: 0, bytes: 512, template: event };
          this.open.timer = setTimeout(() => this.close(), this.s.windowMs);
        }
        const list = this.open.records.get(tp) ?? [];
        list.push(r);
        this.open.records.set(tp, list);
        this.open.count++;
        this.open.bytes += size;
      }
    }
    if (this.open && this.open.count >= this.s.batchSize) this.close();
  };

  /** Batches whose handler threw (the bench expects none; the mapping would retry them). */
  get failedInvocations(): number {
    return this.failures;
  }

  /** Closes the open batch and waits for every closed batch to be handled. */
  async drain(): Promise<void> {
    this.close();
    while (this.running) await this.running;
  }

  private close(): void {
    const o = this.open;
    if (!o) return;
    clearTimeout(o.timer);
    this.open = undefined;
    this.closed.push({ eventSource: o.template.eventSource, ...(o.template.eventSourceArn ? { eventSourceArn: o.template.eventSourceArn } : {}), ...(o.template.bootstrapServers ? { bootstrapServers: o.template.bootstrapServers } : {}), records: Object.fromEntries(o.records) });
    this.running ??= this.work();
  }

  /** One invocation at a time, in the order the batches closed (a poller's batches run in order). */
  private async work(): Promise<void> {
    try {
      for (let event = this.closed.shift(); event; event = this.closed.shift()) {
        const records = Object.values(event.records).reduce((n, l) => n + l.length, 0);
        const t = performance.now();
        try {
          await this.s.invoke(event);
          this.s.onInvoked?.({ records, ms: performance.now() - t });
        } catch (error) {
          this.failures++;
          this.s.onInvoked?.({ records, ms: performance.now() - t, error });
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
