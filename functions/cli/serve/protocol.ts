// ClickHouse's HTTP interface as BI clients speak it: which request parameters are transport (database, format,
// ids, compression), which are settings, where credentials come from, and how errors look. No I/O here.
// Shapes: https://clickhouse.com/docs/interfaces/http, clickhouse-connect (driver/httpclient.py), clickhouse-go
// (conn_http.go, used by Grafana's plugin), ClickHouse's src/Server/HTTP/exceptionCodeToHTTPStatus.cpp.

/** Request parameters that steer the HTTP layer, not the query; accepted and read (or deliberately ignored). */
const TRANSPORT_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'session_timeout', 'session_check', 'user', 'password',
  'quota_key', 'role', 'compress', 'decompress', 'enable_http_compression', 'http_zlib_compression_level', 'wait_end_of_query',
  'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'buffer_size', 'client_protocol_version',
  'output_format_native_use_flattened_dynamic_and_json_serialization',
]);

/**
 * Settings a client may pass: limits, timeouts and output shapes, nothing that reaches files, the network or access
 * control. Any other is refused with UNKNOWN_SETTING-like clarity rather than silently ignored.
 */
export const ALLOWED_SETTINGS: ReadonlySet<string> = new Set([
  'max_execution_time', 'timeout_overflow_mode', 'max_result_rows', 'max_result_bytes', 'result_overflow_mode',
  'max_rows_to_read', 'max_bytes_to_read', 'read_overflow_mode', 'max_threads', 'max_block_size', 'max_memory_usage',
  'extremes', 'join_use_nulls', 'aggregate_functions_null_for_empty', 'prefer_column_name_to_alias', 'session_timezone',
  'date_time_input_format', 'date_time_output_format', 'cast_string_to_dynamic_use_inference',
  'output_format_json_quote_64bit_integers', 'output_format_json_quote_64bit_floats', 'output_format_json_quote_decimals',
  'output_format_json_quote_denormals', 'output_format_json_named_tuples_as_objects', 'output_format_decimal_trailing_zeros',
  'output_format_arrow_string_as_string', 'output_format_tsv_crlf_end_of_line', 'format_csv_delimiter',
]);

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface QueryRequest {
  /** the SQL text (URL `query` first, then the body, as ClickHouse joins them) */
  readonly sql: string;
  readonly database: string | undefined;
  readonly defaultFormat: string;
  readonly queryId: string | undefined;
  readonly sessionId: string | undefined;
  readonly settings: ReadonlyMap<string, string>;
  /** `param_<name>` query parameters, unescaped (null: `\N`) */
  readonly params: ReadonlyMap<string, string | null>;
  readonly credentials: Credentials;
  /** gzip the response: enable_http_compression=1 and the client accepts gzip */
  readonly gzip: boolean;
}

/** An error as ClickHouse reports it: `Code: N. DB::Exception: … (NAME)`. */
export class ClickHouseHttpError extends Error {
  constructor(readonly code: number, readonly type: string, message: string) {
    super(message);
  }
}

export interface RawRequest {
  readonly url: URL;
  /** lower-cased header names */
  readonly headers: ReadonlyMap<string, string>;
  /** the body, already decoded from any Content-Encoding */
  readonly body: string;
}

/** Basic auth, then X-ClickHouse-User/Key, then user/password URL parameters; ClickHouse's `default` with no password otherwise. */
export function credentialsOf(url: URL, headers: ReadonlyMap<string, string>): Credentials {
  const basic = /^Basic\s+(\S+)$/i.exec(headers.get('authorization') ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const user = headers.get('x-clickhouse-user') ?? url.searchParams.get('user') ?? 'default';
  return { user, password: headers.get('x-clickhouse-key') ?? url.searchParams.get('password') ?? '' };
}

const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** Reads a query request; throws ClickHouseHttpError for what ClickHouse would refuse and what this server does not do. */
export function parseQueryRequest(raw: RawRequest): QueryRequest {
  const { url, headers, body } = raw;
  const p = url.searchParams;
  const inUrl = p.get('query');
  const sql = inUrl !== null && body !== '' ? `${inUrl}\n${body}` : inUrl ?? body;
  if (sql.trim() === '') throw new ClickHouseHttpError(62, 'SYNTAX_ERROR', 'Empty query');
  // compress/decompress ask for ClickHouse's own block compression (LZ4 frames with checksums), which this server does not write.
  for (const name of ['compress', 'decompress']) {
    if (p.has(name) && p.get(name) !== '0' && p.get(name) !== 'false') {
      throw new ClickHouseHttpError(48, 'NOT_IMPLEMENTED', `${name}=1 (ClickHouse's native block compression) is not supported by tributary serve: set ${name}=0 (for Metabase: compress=0 in the connection's additional options); HTTP gzip (enable_http_compression=1) is`);
    }
  }
  const settings = new Map<string, string>();
  const params = new Map<string, string | null>();
  for (const [k, v] of p) {
    if (k.startsWith('param_')) params.set(k.slice(6), unescapeParam(v));
    else if (TRANSPORT_PARAMS.has(k)) continue;
    else if (k === 'readonly') {
      // Clients that ask for read-only get it; a request cannot lift the server's own mode (checked when it runs).
      if (v !== '1' && v !== '2' && v !== '0') throw new ClickHouseHttpError(36, 'BAD_ARGUMENTS', `readonly must be 0, 1 or 2, not ${JSON.stringify(v)}`);
      settings.set(k, v);
    } else if (ALLOWED_SETTINGS.has(k)) settings.set(k, v);
    else throw new ClickHouseHttpError(115, 'UNKNOWN_SETTING', `Setting ${k} is not allowed by tributary serve (allowed: ${[...ALLOWED_SETTINGS].join(', ')})`);
  }
  const defaultFormat = headers.get('x-clickhouse-format') ?? p.get('default_format') ?? 'TabSeparated';
  if (!FORMAT_NAME.test(defaultFormat)) throw new ClickHouseHttpError(73, 'UNKNOWN_FORMAT', `Unknown format ${defaultFormat}`);
  const accepts = (headers.get('accept-encoding') ?? '').split(',').map((e) => e.trim().split(';')[0]!.toLowerCase());
  return {
    sql,
    database: headers.get('x-clickhouse-database') ?? p.get('database') ?? undefined,
    defaultFormat,
    queryId: p.get('query_id') ?? undefined,
    sessionId: p.get('session_id') ?? undefined,
    settings, params,
    credentials: credentialsOf(url, headers),
    gzip: p.get('enable_http_compression') === '1' && accepts.includes('gzip'),
  };
}

/** The HTTP status ClickHouse answers an exception with (exceptionCodeToHTTPStatus.cpp), by the exception's name. */
const STATUS_BY_TYPE = new Map<string, number>([
  ['REQUIRED_PASSWORD', 401],
  ...['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED'].map((t) => [t, 403] as const),
  ...['BAD_ARGUMENTS', 'CANNOT_COMPILE_REGEXP', 'CANNOT_PARSE_TEXT', 'CANNOT_PARSE_ESCAPE_SEQUENCE', 'CANNOT_PARSE_QUOTED_STRING',
    'CANNOT_PARSE_DATE', 'CANNOT_PARSE_DATETIME', 'CANNOT_PARSE_NUMBER', 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING', 'CANNOT_PARSE_IPV4',
    'CANNOT_PARSE_IPV6', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'CANNOT_PARSE_UUID', 'DUPLICATE_COLUMN', 'ILLEGAL_COLUMN',
    'UNKNOWN_ELEMENT_IN_AST', 'UNKNOWN_TYPE_OF_AST_NODE', 'THERE_IS_NO_COLUMN', 'TOO_DEEP_AST', 'TOO_BIG_AST', 'UNEXPECTED_AST_STRUCTURE',
    'SYNTAX_ERROR', 'INCORRECT_DATA', 'TYPE_MISMATCH', 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'].map((t) => [t, 400] as const),
  ...['UNKNOWN_TABLE', 'UNKNOWN_FUNCTION', 'UNKNOWN_IDENTIFIER', 'UNKNOWN_TYPE', 'UNKNOWN_STORAGE', 'UNKNOWN_DATABASE', 'UNKNOWN_SETTING',
    'UNKNOWN_DIRECTION_OF_SORTING', 'UNKNOWN_AGGREGATE_FUNCTION', 'UNKNOWN_FORMAT', 'UNKNOWN_DATABASE_ENGINE', 'UNKNOWN_TYPE_OF_QUERY',
    'UNKNOWN_ROLE'].map((t) => [t, 404] as const),
  ['QUERY_IS_TOO_LARGE', 413], ['NOT_IMPLEMENTED', 501], ['SOCKET_TIMEOUT', 503], ['CANNOT_OPEN_FILE', 503], ['CANNOT_SCHEDULE_TASK', 503],
  ['HTTP_LENGTH_REQUIRED', 411], ['TIMEOUT_EXCEEDED', 408], ['UNSUPPORTED_MEDIA_TYPE', 415],
]);

export const httpStatusOf = (type: string): number => STATUS_BY_TYPE.get(type) ?? 500;

export interface ErrorResponse {
  readonly status: number;
  readonly code: number;
  readonly text: string;
}

/**
 * An engine error's text (`Code: N. DB::Exception: … (NAME)`, possibly nested) or our own, as ClickHouse's HTTP
 * interface answers it: the text with a trailing version and newline, the status by the exception's name.
 */
export function errorResponse(err: unknown, version: string): ErrorResponse {
  if (err instanceof ClickHouseHttpError) {
    return { status: httpStatusOf(err.type), code: err.code, text: `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type}) (version ${version})\n` };
  }
  const message = err instanceof Error ? err.message : String(err);
  // @clickhouse/client's ClickHouseError: the text without its `Code: N. DB::Exception:` prefix, code and type apart.
  const typed = err as { code?: unknown; type?: unknown };
  if (err instanceof Error && !message.includes('Code: ') && typeof typed.type === 'string' && /^\d+$/.test(String(typed.code))) {
    return errorResponse(new ClickHouseHttpError(Number(typed.code), typed.type, message.replace(/\s*\(\w+\)\s*$/, '').trim().replace(/\.$/, '')), version);
  }
  const at = message.indexOf('Code: ');
  const m = /^Code: (\d+)\. [\s\S]*\((\w+)\)\s*$/.exec(at >= 0 ? message.slice(at).trim() : '');
  if (!m) return errorResponse(new ClickHouseHttpError(1001, 'STD_EXCEPTION', message.replace(/\.$/, '')), version);
  const text = message.slice(at).trim();
  return { status: httpStatusOf(m[2]!), code: Number(m[1]), text: `${/\(version [^)]*\)/.test(text) ? text : `${text} (version ${version})`}\n` };
}

/** The Content-Type for a result format (ClickHouse's own for the common ones, else plain text or bytes). */
export function contentTypeOf(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json')) return f.includes('eachrow') ? 'application/x-ndjson; charset=UTF-8' : 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return 'text/csv; charset=UTF-8; header=absent';
  if (/^(native|rowbinary|parquet|arrow|avro|orc|msgpack|protobuf)/.test(f)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

const ESCAPES: ReadonlyMap<string, string> = new Map([['n', '\n'], ['t', '\t'], ['r', '\r'], ['b', '\b'], ['f', '\f'], ['0', '\0'], ['a', '\x07'], ['v', '\v']]);

/**
 * A `param_<name>` value as ClickHouse reads it: text in its escaped format (`\n`, `\t`, `\'`, `\\`; `\N` is
 * NULL), which is how @clickhouse/client and other drivers write it. Unescaped once here, because serve's own
 * client escapes the value again on its way to chDB: passed through as it came, a String arrived with its
 * escapes in it and an Array(String) holding a quote could not be read (found 2026-12-06).
 */
export function unescapeParam(value: string): string | null {
  if (value === '\\N') return null;
  return value.replace(/\\(.)/gs, (_, c: string) => ESCAPES.get(c) ?? c);
}
