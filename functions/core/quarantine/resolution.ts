// The record of quarantined records a replay stored: `_quarantine_resolved` in the warehouse's ops
// database, and small Parquet files under `lake/_quarantine/_resolved/`. A resolved record leaves the open
// list and stays auditable.
import { LAKE_PREFIX, QUARANTINE_TABLE } from '../lake/layout.js';
import { column, type ColumnSpec } from '../schema/model.js';
import { utcDate } from '../time.js';
import { KAFKA_IDENTITY_COLUMNS } from './quarantine-rows.js';

export const QUARANTINE_RESOLVED_TABLE = '_quarantine_resolved';

/** One row per record a replay stored: which record, what it was quarantined for, when and how it was fixed. */
export const RESOLUTION_COLUMNS: readonly ColumnSpec[] = [
  ...KAFKA_IDENTITY_COLUMNS,
  column('reason', 'string', false, 'The reason it was quarantined for'),
  column('event', 'string', true, 'Normalised event name, when the quarantine knew it'),
  column('resolved_at', 'timestamp', false, 'When the replay stored it'),
  column('how', 'string', false, 'The replay that stored it, e.g. quarantine replay --rename a=b'),
];

/** Where a replay's resolutions go in the lake: beside the quarantine, out of its `dt=…/hour=…` folders. */
export const resolutionKey = (resolvedAt: number, digest: string): string =>
  `${LAKE_PREFIX}/${QUARANTINE_TABLE}/_resolved/dt=${utcDate(resolvedAt)}/${digest}.parquet`;

