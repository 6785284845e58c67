// How the command reports a failure. A usage or definition error exits 2 with one line; an operational
// error (a file, ClickHouse, Kafka) exits 1 with one line; anything else is a bug and keeps its stack.
// TRIBUTARY_DEBUG=1 prints the stack of every error.
import { terminalText } from './print.js';

/** The user asked for something the command cannot do as asked: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A read-only command refused what would lift its read-only mode (ClickHouse's READONLY): exit code 1, like ClickHouse's own refusal. */
export class ReadOnlyError extends Error {
  override readonly name = 'ReadOnlyError';
}

export interface Failure {
  readonly exitCode: 1 | 2;
  readonly message: string;
  /** print the error with its stack rather than the message alone */
  readonly withStack: boolean;
}

const USAGE_ERRORS = new Set(['UsageError', 'SchemaDefinitionError', 'SchemaCompatibilityError', 'WindowError', 'JobConfigError', 'SqlJobError', 'ConfigurationError']);
/** File-system failures, said as a person would: `<path>: no such file or directory`, not Node's errno text. */
const FILE_ERRORS: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'no such file or directory'], ['EACCES', 'permission denied'], ['EPERM', 'operation not permitted'],
  ['EISDIR', 'is a directory, not a file'], ['ENOTDIR', 'a part of the path is not a directory'], ['EEXIST', 'already exists'],
  ['ENOTEMPTY', 'directory not empty'], ['EMFILE', 'too many open files'], ['ENOSPC', 'no space left on the device'],
  ['EROFS', 'read-only file system'], ['ENAMETOOLONG', 'name too long'], ['ELOOP', 'too many symbolic links'],
]);

interface ErrorLike { name?: unknown; message?: unknown; code?: unknown; cause?: unknown; path?: unknown; dest?: unknown; syscall?: unknown }

/** One line for a file-system error: the path(s) it names and what went wrong. */
function fileFailure(e: ErrorLike, what: string): string {
  const paths = [e.path, e.dest].filter((p): p is string => typeof p === 'string' && p !== '');
  // A read of an already-open handle names no path (EISDIR on `ingest some-dir/`): say what failed instead.
  return paths.length > 0 ? `${paths.map(text).join(' → ')}: ${what}` : `${what}${typeof e.syscall === 'string' ? ` (${text(e.syscall)})` : ''}`;
}

// Messages quote data (an event name, a query, a value ClickHouse refused): escaped before the terminal sees them.
const text = (v: unknown): string => terminalText(String(v ?? '').trim());

export function describeFailure(err: unknown, debug = false): Failure {
  const e: ErrorLike = typeof err === 'object' && err !== null ? err : { message: String(err) };
  // ClickHouse's client error keeps the default name; its class says what it is.
  const name = text(e.name) === 'Error' && typeof err === 'object' && err !== null ? err.constructor.name : text(e.name);
  if (USAGE_ERRORS.has(name) || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return { exitCode: 2, message: text(e.message), withStack: debug };
  }
  if (name === 'LocalStoreBusyError' || name === 'ServeUnavailableError' || name === 'ReadOnlyError') return { exitCode: 1, message: text(e.message), withStack: debug };
  if (name === 'ClickHouseError') return { exitCode: 1, message: `ClickHouse: ${text(e.message)}`, withStack: debug };
  // mkdir of a path that is a file (TRIBUTARY_HOME=some-file): EEXIST says too little.
  const file = e.code === 'EEXIST' && e.syscall === 'mkdir' ? 'is a file, not a directory' : typeof e.code === 'string' ? FILE_ERRORS.get(e.code) : undefined;
  if (file !== undefined) return { exitCode: 1, message: fileFailure(e, file), withStack: debug };
  if (name.startsWith('KafkaJS')) {
    // kafkajs wraps the socket error: the cause says what actually went wrong (refused, unknown host, …)
    const cause = typeof e.cause === 'object' && e.cause !== null ? text((e.cause as ErrorLike).message) : '';
    const message = text(e.message);
    return { exitCode: 1, message: `Kafka: ${message}${cause && cause !== message ? ` (${cause})` : ''}`, withStack: debug };
  }
  return { exitCode: 1, message: text(e.message), withStack: true };
}
