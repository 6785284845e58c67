// How the command reports a failure. A usage or definition error exits 2 with one line; an operational
// error (a file, ClickHouse, Kafka) exits 1 with one line; anything else is a bug and keeps its stack.
// TRIBUTARY_DEBUG=1 prints the stack of every error.
import { terminalText } from './print.js';

export interface Failure {
  readonly exitCode: 1 | 2;
  readonly message: string;
  /** print the error with its stack rather than the message alone */
  readonly withStack: boolean;
}

const USAGE_ERRORS = new Set(['UsageError', 'SchemaDefinitionError', 'SchemaCompatibilityError', 'WindowError', 'JobConfigError', 'ConfigurationError']);
const FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EMFILE', 'ENOSPC']);

interface ErrorLike { name?: unknown; message?: unknown; code?: unknown; cause?: unknown }

// Messages quote data (an event name, a query, a value ClickHouse refused): escaped before the terminal sees them.
const text = (v: unknown): string => terminalText(String(v ?? '').trim());

export function describeFailure(err: unknown, debug = false): Failure {
  const e: ErrorLike = typeof err === 'object' && err !== null ? err : { message: String(err) };
  // ClickHouse's client error keeps the default name; its class says what it is.
  const name = text(e.name) === 'Error' && typeof err === 'object' && err !== null ? err.constructor.name : text(e.name);
  if (USAGE_ERRORS.has(name) || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return { exitCode: 2, message: text(e.message), withStack: debug };
  }
  if (name === 'LocalStoreBusyError') return { exitCode: 1, message: text(e.message), withStack: debug };
  if (name === 'ClickHouseError') return { exitCode: 1, message: `ClickHouse: ${text(e.message)}`, withStack: debug };
  if (typeof e.code === 'string' && FILE_ERRORS.has(e.code)) return { exitCode: 1, message: text(e.message), withStack: debug };
  if (name.startsWith('KafkaJS')) {
    // kafkajs wraps the socket error: the cause says what actually went wrong (refused, unknown host, …)
    const cause = typeof e.cause === 'object' && e.cause !== null ? text((e.cause as ErrorLike).message) : '';
    const message = text(e.message);
    return { exitCode: 1, message: `Kafka: ${message}${cause && cause !== message ? ` (${cause})` : ''}`, withStack: debug };
  }
  return { exitCode: 1, message: text(e.message), withStack: true };
}
