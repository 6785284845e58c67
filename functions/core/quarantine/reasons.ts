// Why a record could not be stored. Every reason is a stable code that BI users can group by.
import type { DecodedRecord } from '../decode/msk-event.js';

export const QUARANTINE_REASONS = {
  invalid_encoding: 'key, value or headers were not valid base64/bytes',
  empty_value: 'the record has no value (tombstone)',
  payload_too_large: 'the value exceeds the per-record size limit',
  malformed_json: 'the value is not valid UTF-8 JSON',
  not_an_object: 'the JSON value is not an object',
  missing_event: 'the envelope has no "event" name',
  invalid_event_name: 'the event name is not a valid identifier after normalisation',
  invalid_event_id: 'event_id is not a non-empty string or integer of at most 128 characters',
  invalid_property_name: 'a property name is not a valid identifier, is reserved, or collides with another after normalisation',
  too_deeply_nested: 'a value nests deeper than the limit',
  invalid_timestamp: 'ts is not ISO-8601 or epoch milliseconds, or is implausibly old',
  future_timestamp: 'ts is further in the future than the allowed clock skew',
  missing_required: 'a property the schema requires is missing or null',
  unknown_property: 'the schema forbids properties it does not declare',
  uncoercible_value: 'a value cannot be converted to its column type without loss',
  schema_violation: 'a value has its column\'s type but breaks its declared schema (enum, const, minimum, maxLength, pattern, …)',
  type_conflict: 'a value conflicts with the type already registered for its column',
  column_limit: 'a new property would exceed the limit of new columns per table per hour, or of columns per table',
  table_limit: 'a new event would exceed the limit of new tables per batch (replay it: the next batch may create more)',
  file_limit: 'the batch already writes as many files (table, hour, topic-partition) as it may (replay it)',
  internal_error: 'checking the record raised an unexpected error (a bug to report; replay the record once it is fixed)',
} as const;

export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

export interface Rejection {
  readonly reason: QuarantineReason;
  readonly detail: string;
  /** the normalised event name, when it was known */
  readonly event?: string;
}

export interface QuarantinedRecord extends Rejection {
  readonly record: DecodedRecord;
}

export const reject = (reason: QuarantineReason, detail: string, event?: string): Rejection =>
  event === undefined ? { reason, detail } : { reason, detail, event };

