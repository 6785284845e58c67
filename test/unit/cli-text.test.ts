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
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    assert.deepEqual(describeFailure(bug), { exitCode: 1, message: bug.message, withStack: true });
  });
});
