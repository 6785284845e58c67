// The CLI's surface as a user meets it: --version, every command's --help, exit codes and one-line
// failures, and a start-up that loads no heavy dependency before a command needs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const BIN = join(PACKAGE_ROOT, 'bin/tributary.mjs');
const home = mkdtempSync(join(tmpdir(), 'tributary-cli-usage-'));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [BIN, ...args], { env: { ...process.env, TRIBUTARY_HOME: home, ...env }, cwd: PACKAGE_ROOT });
type Failed = { code: number; stdout: string; stderr: string };

describe('tributary --version and --help', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await cli(['--version'])).stdout, `tributary ${version}\n`);
  });

  it('every command of the synopsis has a --help of its own that names its options, and exits 0', async () => {
    const synopsis = (await cli(['--help'])).stdout;
    const commands = [...new Set([...synopsis.matchAll(/^ {2}tributary (\w+)/gm)].map((m) => m[1]!))];
    assert.ok(commands.length >= 8, commands.join(' '));
    const options: Record<string, string[]> = {
      dev: ['--events', '--batch-size', '--kafka'], produce: ['--topic', '--brokers', '--cluster-arn', '--generate', '--rate'],
      ingest: ['--topic', '--batch-size', '--batch-mb'], sql: ['--format', '-f', '--write'],
      compact: ['--table', '--date', '--grace-minutes', '--target-mb', '--retention-minutes'], jobs: ['--date', '--from', '--to'],
      ab: ['--experiment', '--date', '--out'], schema: ['--out', '--force', '--event'],
    };
    for (const command of commands) {
      const { stdout } = await cli([command, '--help']);
      assert.match(stdout, new RegExp(`^tributary ${command}\\b`), command);
      for (const option of options[command] ?? []) assert.ok(stdout.includes(option), `${command} --help names ${option}`);
    }
    assert.equal((await cli(['jobs', 'run', '--help'])).stdout, (await cli(['jobs', '--help'])).stdout);
    assert.equal((await cli(['help', 'sql'])).stdout, (await cli(['sql', '-h'])).stdout);
  });
});

describe('tributary exit codes', () => {
  it('usage errors exit 2 with one line; no command is one too, with the synopsis on stderr', async () => {
    await assert.rejects(cli([]), (e: Failed) => e.code === 2 && e.stdout === '' && /^tributary — /.test(e.stderr));
    await assert.rejects(cli(['sql', 'SELECT 1', '--format', 'xml']), (e: Failed) => e.code === 2 && /^tributary: --format is one of table, csv, tsv, json, jsonl\n$/.test(e.stderr));
    await assert.rejects(cli(['compact', '--grace-minutes', 'soon']), (e: Failed) => e.code === 2 && e.stderr.split('\n').length === 2);
  });

  it('a missing file or directory exits 1 with one line naming it, without errno text', async () => {
    const missing = join(home, 'no-such-file.ndjson');
    await assert.rejects(cli(['ingest', missing]), (e: Failed) => e.code === 1 && e.stderr === `tributary: ${missing}: no such file or directory\n`);
    await assert.rejects(cli(['sql', '-f', join(home, 'nope.sql')]), (e: Failed) => e.code === 1 && e.stderr === `tributary: ${join(home, 'nope.sql')}: no such file or directory\n`);
    await assert.rejects(cli(['ingest', home]), (e: Failed) => e.code === 1 && /^tributary: is a directory, not a file/.test(e.stderr) && !/EISDIR/.test(e.stderr));
    await assert.rejects(cli(['jobs', 'run', 'ab-daily', '--date', '2026-11-20'], { TRIBUTARY_JOBS: join(home, 'no-jobs') }),
      (e: Failed) => e.code === 1 && e.stderr === `tributary: ${join(home, 'no-jobs', 'ab-daily.json')}: no such file or directory\n`);
    await assert.rejects(cli(['schema', 'list'], { TRIBUTARY_SCHEMAS: join(home, 'no-schemas') }),
      (e: Failed) => e.code === 2 && e.stderr === `tributary: TRIBUTARY_SCHEMAS names ${join(home, 'no-schemas')}, which does not exist: create it, or unset TRIBUTARY_SCHEMAS to use schemas/events\n`);
    const file = join(home, 'a-file');
    writeFileSync(file, '');
    await assert.rejects(cli(['sql', 'SELECT 1'], { TRIBUTARY_HOME: file }), (e: Failed) => e.code === 1 && e.stderr.split('\n').length === 2 && !/EEXIST|ENOTDIR/.test(e.stderr));
  });
});

describe('tributary start-up', () => {
  // Records every module the CLI resolves, through a module hook of Node's.
  const hooks = mkdtempSync(join(tmpdir(), 'tributary-hooks-'));
  writeFileSync(join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n`);
  writeFileSync(join(hooks, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.RESOLVE_LOG, r.url + '\\n');
  return r;
}\n`);
  const HEAVY = /node_modules\/(chdb|@duckdb|@aws-sdk|apache-arrow|@clickhouse|parquet-wasm|kafkajs|ajv|hyparquet)\//;
  const loaded = async (args: string[]): Promise<string[]> => {
    const log = join(hooks, `${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, '');
    await run(process.execPath, ['--import', join(hooks, 'register.mjs'), BIN, ...args], { env: { ...process.env, TRIBUTARY_HOME: home, RESOLVE_LOG: log }, cwd: PACKAGE_ROOT })
      .catch((e: Failed) => assert.equal(e.code, 2, e.stderr));
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  };

  it('--help, --version, a command\'s --help and usage errors load no database, AWS, Arrow or Kafka module', async () => {
    for (const args of [['--help'], ['--version'], ['sql', '--help'], ['compact', '--help'], ['frobnicate'], ['sql', 'SELECT 1', '--format', 'xml'], ['ingest']]) {
      const urls = await loaded(args);
      assert.ok(urls.length > 0, 'the hook saw the CLI load');
      assert.deepEqual(urls.filter((u) => HEAVY.test(u)), [], args.join(' '));
    }
  });

  it('sql loads chDB but not DuckDB, the AWS SDK or Arrow', async () => {
    const urls = await loaded(['sql', 'SELECT 1']);
    assert.ok(urls.some((u) => /node_modules\/chdb\//.test(u)));
    assert.deepEqual(urls.filter((u) => /node_modules\/(@duckdb|@aws-sdk|apache-arrow|kafkajs)\//.test(u)), []);
  });
});
