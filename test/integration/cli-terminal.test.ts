// The CLI as an analyst's terminal sees it: values from event data never reach it as control sequences.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-cli-terminal-'));
const cli = async (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
  run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: home }, cwd: PACKAGE_ROOT });

/** Characters that must never reach a terminal raw: C0 but line breaks and tabs, DEL, C1, bidi controls. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

// Built in SQL (argv cannot carry every control character): clipboard write, hyperlink, window title, C1 CSI, RLO.
const HOSTILE_SQL = `SELECT concat('a', char(27), ']52;c;cm0gLXJmIH4=', char(7), 'b') AS osc52,
  concat(char(27), ']8;;https://evil.example', char(27), '\\\\click', char(27), ']8;;', char(27), '\\\\') AS osc8,
  concat(char(27), ']0;pwned', char(7)) AS title, concat(char(194, 155), '2J') AS c1, concat('abc', char(226, 128, 174), 'txt.exe') AS rlo`;

describe('tributary output to a terminal', () => {
  it('sql shows control sequences in values escaped, as a table and as JSON', async () => {
    const table = (await cli('sql', HOSTILE_SQL)).stdout;
    assert.doesNotMatch(table, RAW_CONTROL);
    assert.match(table, /a\\x1b\]52;c;cm0gLXJmIH4=\\x07b/);
    assert.match(table, /\\x9b2J/);
    assert.match(table, /abc\\u202etxt\.exe/);

    const json = (await cli('sql', '--format', 'json', HOSTILE_SQL)).stdout;
    assert.doesNotMatch(json, RAW_CONTROL);
    assert.deepEqual(JSON.parse(json), [JSON.parse((await cli('sql', '--format', 'jsonl', HOSTILE_SQL)).stdout)]);
    const jsonl = (await cli('sql', '--format', 'jsonl', HOSTILE_SQL)).stdout;
    assert.doesNotMatch(jsonl, RAW_CONTROL);
    const row = JSON.parse(jsonl.trim()) as Record<string, string>;
    assert.equal(row['osc52'], 'a\x1b]52;c;cm0gLXJmIH4=\x07b', 'JSON keeps the value exactly');
    assert.equal(row['c1'], '\u009b2J');
    assert.equal(row['rlo'], 'abc\u202etxt.exe');
  });

  it('an error line quoting a value escapes it', async () => {
    await assert.rejects(cli('sql', `SELECT concat(char(27), ']0;pwned', char(7)) AS t FROM no_such_table_${'x'}`),
      (err: { stderr: string; code: number }) => err.code === 1 && /^tributary: /.test(err.stderr) && !RAW_CONTROL.test(err.stderr));
    await assert.rejects(cli('schema', 'show', 'bad\u202eeman'),
      (err: { stderr: string; code: number }) => err.code === 2 && /\\u202e/.test(err.stderr) && !RAW_CONTROL.test(err.stderr));
  });
});
