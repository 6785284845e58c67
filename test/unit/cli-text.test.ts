import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ndjsonLines } from '../../functions/cli/commands/ingest.js';
import { formatTable } from '../../functions/cli/print.js';

async function lines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of ndjsonLines((async function* () { yield* chunks; })())) out.push(l.toString('utf8'));
  return out;
}

describe('ndjsonLines', () => {
  it('ends lines at \\n only: a lone \\r is JSON whitespace and stays in its line', async () => {
    assert.deepEqual(await lines(['{"a":1,\r"b":2}\n{"c":3}\n']), ['{"a":1,\r"b":2}', '{"c":3}']);
  });

  it('drops the \\r of a CRLF line end and a byte-order mark at the start, keeps blank lines and a last line without \\n', async () => {
    assert.deepEqual(await lines(['', '\uFEFF{"a":1}\r\n', '\r\n{"b"', ':2}\n{"c":3}']), ['{"a":1}', '', '{"b":2}', '{"c":3}']);
    assert.deepEqual(await lines(['{"a":"\uFEFF"}\n']), ['{"a":"\uFEFF"}'], 'a BOM later in the text is data');
  });

  it('passes bytes through as they are: invalid UTF-8 stays invalid (to be quarantined), a split BOM is still a BOM', async () => {
    const out: Buffer[] = [];
    const chunks = [Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a, 0x7b, 0x7d])];
    for await (const l of ndjsonLines((async function* () { yield* chunks; })())) out.push(l);
    assert.deepEqual(out.map((b) => [...b]), [[0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d], [0x7b, 0x7d]]);
  });

  it('gathers a line longer than many chunks', async () => {
    const long = 'x'.repeat(1 << 20);
    const chunks = [`{"a":"`, ...Array.from({ length: 64 }, (_, i) => long.slice(i << 14, (i + 1) << 14)), '"}\n'];
    assert.deepEqual(await lines(chunks), [`{"a":"${long}"}`]);
  });
});

describe('formatTable', () => {
  it('shows line breaks and tabs inside values escaped, so every row stays one line', () => {
    const out = formatTable([{ k: 'a\nb', v: 'x\ty\r' }, { k: 'c', v: 'd' }]);
    assert.equal(out.split('\n').length, 4);
    assert.match(out, /^a\\nb\s+x\\ty\\r$/m);
  });

  it('lays out a result of 300,000 rows', () => {
    const out = formatTable(Array.from({ length: 300_000 }, (_, i) => ({ n: i })));
    assert.equal(out.split('\n').length, 300_002);
    assert.match(out, /^299999$/m);
  });
});

describe('CLI failures', () => {
  it('say what failed in one line, and keep the stack only for bugs', async () => {
    const { describeFailure } = await import('../../functions/cli/errors.js');
    const kafka = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    assert.deepEqual(describeFailure(kafka), { exitCode: 1, message: 'Kafka: Connection error: connect ECONNREFUSED 127.0.0.1:1', withStack: false });
    const refused = Object.assign(new Error('Closed connection'), { name: 'KafkaJSNonRetriableError', cause: new Error('connect ECONNREFUSED') });
    assert.equal(describeFailure(refused).message, 'Kafka: Closed connection (connect ECONNREFUSED)');
    const usage = Object.assign(new Error('--x must be an integer'), { name: 'UsageError' });
    assert.deepEqual(describeFailure(usage), { exitCode: 2, message: '--x must be an integer', withStack: false });
    assert.equal(describeFailure(usage, true).withStack, true, 'TRIBUTARY_DEBUG=1 keeps every stack');
    // Against AWS a missing or malformed variable is the user's to fix, not a bug with a stack.
    const { ConfigurationError, readServicesEnvironment } = await import('../../functions/adapters/environment.js');
    let config: unknown;
    try { readServicesEnvironment({ TRIBUTARY_BUCKET: 'b' }); } catch (e) { config = e; }
    assert.ok(config instanceof ConfigurationError);
    assert.deepEqual(describeFailure(config), { exitCode: 2, message: (config as Error).message, withStack: false });
    assert.match((config as Error).message, /TRIBUTARY_GLUE_DATABASE/);
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    assert.deepEqual(describeFailure(bug), { exitCode: 1, message: bug.message, withStack: true });
  });
});

// Values that try to drive the analyst's terminal: clipboard write (OSC 52), a hyperlink (OSC 8), the window
// title, a screen clear (CSI, 7-bit and C1), DEL, NUL, bidi overrides and isolates, a lone surrogate.
const HOSTILE: ReadonlyArray<readonly [string, string, string]> = [
  ['osc 52', 'a\x1b]52;c;cm0gLXJmIH4=\x07b', 'a\\x1b]52;c;cm0gLXJmIH4=\\x07b'],
  ['osc 8', '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\', '\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\'],
  ['title', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
  ['csi', '\x1b[2J', '\\x1b[2J'],
  ['c1 csi', '\u009b2J', '\\x9b2J'],
  ['del nul', 'x\x7fy\x00z', 'x\\x7fy\\x00z'],
  ['bidi override', 'abc\u202Etxt.exe', 'abc\\u202etxt.exe'],
  ['bidi embeddings', '\u202A\u202B\u202C\u202D', '\\u202a\\u202b\\u202c\\u202d'],
  ['isolates', '\u2066\u2067\u2068\u2069', '\\u2066\\u2067\\u2068\\u2069'],
  ['lone surrogate', 'order-\ud800', 'order-\\ud800'],
];
/** Characters that must never reach a terminal raw from a value. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('terminal-safe output', () => {
  it('formatTable escapes every control sequence visibly, in values and in column names', async () => {
    for (const [name, value, shown] of HOSTILE) {
      const out = formatTable([{ [`col${value}`]: value }]);
      assert.doesNotMatch(out, RAW_CONTROL, name);
      const [head, , row] = out.split('\n');
      assert.equal(row, shown, name);
      assert.equal(head, `col${shown}`, name);
    }
  });

  it('two different values never print alike: a literal backslash before an escape letter is doubled', async () => {
    const values = ['a\x1bb', 'a\\x1bb', 'a\nb', 'a\\nb', 'a\u202eb', 'a\\u202eb', 'C:\\dir', 'C:\\\\dir', 'end\\'];
    const printed = formatTable(values.map((v) => ({ v }))).split('\n').slice(2);
    assert.equal(new Set(printed).size, values.length);
    assert.equal(printed[6], 'C:\\dir', 'a backslash that starts no escape stays as it is');
  });

  it('JSON lines stay valid JSON and escape C1, DEL, bidi and separators as \\u escapes', async () => {
    const { jsonLine } = await import('../../functions/cli/print.js');
    for (const [name, value] of HOSTILE) {
      const line = jsonLine({ [`k${value}`]: value, n: 1 });
      assert.doesNotMatch(line, RAW_CONTROL, name);
      assert.doesNotMatch(line, /[\u2028\u2029\u007f]/, name);
      assert.deepEqual(JSON.parse(line), { [`k${value}`]: value, n: 1 }, name);
    }
    assert.equal(jsonLine({ v: '\u009b\u202e\u2028' }), '{"v":"\\u009b\\u202e\\u2028"}');
  });

  it('error lines escape what they quote; the help text keeps its line breaks', async () => {
    const { describeFailure } = await import('../../functions/cli/errors.js');
    for (const [name, value] of HOSTILE) {
      const usage = Object.assign(new Error(`event ${value} is not a valid event name`), { name: 'UsageError' });
      assert.doesNotMatch(describeFailure(usage).message, RAW_CONTROL, name);
      const clickhouse = Object.assign(new Error(`Syntax error near '${value}'`), { name: 'ClickHouseError' });
      assert.doesNotMatch(describeFailure(clickhouse).message, RAW_CONTROL, name);
    }
    const help = Object.assign(new Error('unknown command\n\nUsage:\n  tributary dev'), { name: 'UsageError' });
    assert.equal(describeFailure(help).message, 'unknown command\n\nUsage:\n  tributary dev');
  });

  it('a guarded stream escapes control sequences in whatever the command writes, keeping line breaks', async () => {
    const { guardTerminalOutput } = await import('../../functions/cli/print.js');
    const written: string[] = [];
    const stream = { write: (chunk: string | Uint8Array): boolean => { written.push(String(chunk)); return true; } };
    guardTerminalOutput(stream as unknown as NodeJS.WriteStream);
    stream.write('title \x1b]0;x\x07 and \u202e\n');
    stream.write(Buffer.from('bytes \x1b[2J\n'));
    assert.deepEqual(written, ['title \\x1b]0;x\\x07 and \\u202e\n', 'bytes \\x1b[2J\n']);
  });

  it('schema show escapes descriptions, of the table and of its fields', async () => {
    const { schemaShow } = await import('../../functions/cli/commands/schema.js');
    const { SchemaRegistry } = await import('../../functions/core/schema/registry.js');
    const { parseDeclaredSchema } = await import('../../functions/core/schema/declared-schema.js');
    const { SchemaFiles } = await import('../../functions/adapters/schema-files.js');
    const { memoryStore } = await import('../helpers.js');
    const registry = new SchemaRegistry(memoryStore(), { clock: () => Date.UTC(2026, 11, 6) });
    const description = HOSTILE.map(([, v]) => v).join(' ');
    await registry.pin(parseDeclaredSchema('signup', {
      type: 'object', description, properties: { plan: { type: 'string', description: `plan ${description}` } },
    }), 'test');
    const out = await schemaShow({ registry, schemas: new SchemaFiles(new Map()), schemasDir: '.' }, 'signup');
    assert.doesNotMatch(out, RAW_CONTROL);
    // (The registry already turns C0 in descriptions into spaces; C1 and bidi reach the output.)
    assert.match(out, /\n[^\n]*\\x9b2J x\\x7fy[^\n]*abc\\u202etxt\.exe/, 'the table\'s description');
    assert.match(out, /\nplan .*\\x9b2J x\\x7fy[^\n]*abc\\u202etxt\.exe/, 'the field\'s description');
  });
});

describe('ab report text', () => {
  it('escapes variant, metric and experiment names from the data: no escape sequence, no forged line', async () => {
    const { abReport } = await import('../../functions/cli/commands/jobs.js');
    const row = (variant: string, control: string | null) => ({
      day: '2026-12-05', experiment_id: 'exp\u202e', variant, metric: 'clicks\x1b[2J', units: '10', mean: 1, control_variant: control,
      abs_lift: control ? 0.1 : null, rel_lift: control ? 0.1 : null, ci_low: control ? 0 : null, ci_high: control ? 0.2 : null,
      p_value: control ? 0.5 : null, srm_p_value: 0.9, crossover_users: '0', is_final: true,
    });
    const forged = 'green\nWARNING: all clear\x1b]0;pwned\x07';
    const warehouse = { database: 'tributary', query: async () => [row('control', null), row(forged, 'control')] } as unknown as import('../../functions/core/ports.js').Warehouse;
    const out = await abReport(warehouse, 'exp\u202e');
    assert.doesNotMatch(out, RAW_CONTROL);
    assert.doesNotMatch(out, /^WARNING: all clear/m, 'a value cannot start a line of its own');
    assert.match(out, /green\\nWARNING: all clear\\x1b\]0;pwned\\x07/);
    assert.match(out, /^exp\\u202e · 2026-12-05/);
  });
});

describe('CLI failures of the file system', () => {
  it('name the path and say what went wrong, without errno codes', async () => {
    const { describeFailure } = await import('../../functions/cli/errors.js');
    const errno = (code: string, message: string, extra: Record<string, string>) => Object.assign(new Error(message), { code, ...extra });
    assert.deepEqual(describeFailure(errno('ENOENT', "ENOENT: no such file or directory, open 'x.ndjson'", { path: 'x.ndjson', syscall: 'open' })),
      { exitCode: 1, message: 'x.ndjson: no such file or directory', withStack: false });
    assert.equal(describeFailure(errno('EACCES', 'EACCES: permission denied', { path: '/root/y', syscall: 'open' })).message, '/root/y: permission denied');
    assert.equal(describeFailure(errno('EISDIR', 'EISDIR: illegal operation on a directory, read', { syscall: 'read' })).message, 'is a directory, not a file (read)');
    assert.equal(describeFailure(errno('EEXIST', 'EEXIST', { path: '/etc/passwd', syscall: 'mkdir' })).message, '/etc/passwd: is a file, not a directory');
  });
});
