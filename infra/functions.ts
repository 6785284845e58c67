// How Tributary's Lambda functions are built: esbuild bundles (no Docker) of the TypeScript handlers, ESM,
// with the assets a bundle cannot inline copied next to it. Shared by the stack and the bundle test.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { lambdaHeapSizing } from './config.js';
import type { Lake } from './lake.js';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** ESM bundles still meet CommonJS inside dependencies (parquet-wasm reads its .wasm from __dirname). */
export const ESM_BANNER = [
  "import { createRequire as __tributaryCreateRequire } from 'node:module';",
  "import { fileURLToPath as __tributaryFileURLToPath } from 'node:url';",
  "import { dirname as __tributaryDirname } from 'node:path';",
  'const require = __tributaryCreateRequire(import.meta.url);',
  'const __filename = __tributaryFileURLToPath(import.meta.url);',
  'const __dirname = __tributaryDirname(__filename);',
].join(' ');

/** esbuild settings of every function bundle (the bundle test builds with these too). */
export const ESBUILD_OPTIONS = {
  format: 'esm' as const,
  platform: 'node' as const,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: ESM_BANNER,
  // Stack traces need a source map's mappings, not the sources: with them the ingest bundle's map is 5.0 MB
  // instead of 2.0, which --enable-source-maps reads at start (103 MB of RSS after import instead of 95).
  sourcesContent: false,
};

/** What every Tributary function construct is given: the lake, the network, log retention. */
export interface FunctionContext {
  readonly lake: Lake;
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroups: readonly ISecurityGroup[];
  readonly logDays: RetentionDays;
}

/** A function's own ClickHouse login: one user per function, its password in a secret only that function reads. */
export interface ClickHouseLogin {
  /** CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_DATABASE, CLICKHOUSE_TTL_DAYS, CLICKHOUSE_LAKE_URL (functions/adapters/environment.ts) */
  readonly environment: Record<string, string>;
  readonly secret: ISecret;
}

/** Gives a function its ClickHouse login: the environment it reads it from, and read access to its secret. */
export function attachClickHouse(fn: NodejsFunction, login: ClickHouseLogin): void {
  for (const [name, value] of Object.entries(login.environment)) fn.addEnvironment(name, value);
  fn.addEnvironment('CLICKHOUSE_PASSWORD_SECRET_ARN', login.secret.secretArn);
  login.secret.grantRead(fn);
}

/**
 * V8 heap flags for a function of `memoryMb` with a young generation of `semiSpaceMb` semi-spaces. Lambda's
 * Node bootstrap applies its own (semi-space memory/20, old space memory − memory/10) only when NODE_OPTIONS
 * sets neither, so both are set: the old space as Lambda would size it.
 */
export function heapFlags(memoryMb: number, semiSpaceMb: number): string[] {
  const lambda = lambdaHeapSizing(memoryMb);
  if (!Number.isInteger(semiSpaceMb) || semiSpaceMb < 1 || semiSpaceMb > lambda.semiSpaceMb) {
    throw new Error(`semiSpaceMb must be an integer from 1 to memory/20 (${lambda.semiSpaceMb} MB at ${memoryMb} MB), not ${semiSpaceMb}`);
  }
  return [`--max-semi-space-size=${semiSpaceMb}`, `--max-old-space-size=${lambda.oldSpaceMb}`];
}

/** The NODE_OPTIONS of a function: source-mapped stack traces, and its heap flags when it sizes its young generation. */
export function nodeOptions(memoryMb: number, semiSpaceMb?: number): string {
  return ['--enable-source-maps', ...(semiSpaceMb === undefined ? [] : heapFlags(memoryMb, semiSpaceMb))].join(' ');
}

export interface TributaryFunctionProps {
  /** handler file under functions/ */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  /** V8's semi-space in MB (see heapFlags); absent, Lambda's bootstrap sizes the heap from memoryMb */
  readonly semiSpaceMb?: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly architecture?: Architecture;
  /** bundle the DuckDB native module (x86_64 functions only: its binding is the build machine's) */
  readonly duckdb?: boolean;
  /** the job files bundled as schemas/jobs (default: the project's): those the stack scheduled */
  readonly jobsDir?: string;
  readonly logDays: RetentionDays;
  readonly extra?: Partial<NodejsFunctionProps>;
}

/**
 * Shell commands that put what a bundle cannot inline next to it: the WASM modules, schemas, DuckDB.
 * parquet-wasm reads back a file under a redelivered batch's key; zstd in WASM compresses pages only on a
 * Node without zstd of its own (older than 22.15: never the Lambda runtime, but the bundle runs there too).
 */
export function assetCommands(outputDir: string, options: { duckdb?: boolean; jobsDir?: string } = {}): string[] {
  return [
    `cp ${join(PROJECT_ROOT, 'node_modules/parquet-wasm/node/parquet_wasm_bg.wasm')} ${join(PROJECT_ROOT, 'node_modules/@bokuweb/zstd-wasm/dist/common/zstd.wasm')} ${outputDir}/`,
    `mkdir -p ${outputDir}/schemas/jobs && cp -r ${join(PROJECT_ROOT, 'schemas/events')} ${outputDir}/schemas/ && cp -r ${options.jobsDir ?? join(PROJECT_ROOT, 'schemas/jobs')}/. ${outputDir}/schemas/jobs/`,
    ...(options.duckdb ? [`mkdir -p ${outputDir}/node_modules && cp -r ${join(PROJECT_ROOT, 'node_modules/@duckdb')} ${outputDir}/node_modules/`] : []),
  ];
}

export function tributaryFunction(scope: Construct, id: string, p: TributaryFunctionProps): NodejsFunction {
  return new NodejsFunction(scope, id, {
    entry: join(PROJECT_ROOT, 'functions', p.entry),
    handler: 'handler',
    description: p.description,
    runtime: Runtime.NODEJS_24_X,
    architecture: p.architecture ?? Architecture.ARM_64,
    memorySize: p.memoryMb,
    timeout: p.timeout,
    environment: { NODE_OPTIONS: nodeOptions(p.memoryMb, p.semiSpaceMb), ...p.environment },
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    logGroup: new LogGroup(scope, `${id}Logs`, { retention: p.logDays }),
    bundling: {
      format: OutputFormat.ESM,
      target: ESBUILD_OPTIONS.target,
      mainFields: ESBUILD_OPTIONS.mainFields,
      banner: ESBUILD_OPTIONS.banner,
      minify: true,
      sourceMap: true,
      sourcesContent: ESBUILD_OPTIONS.sourcesContent,
      // The SDK is bundled at the version the tests ran, not the runtime's.
      externalModules: p.duckdb ? ['@duckdb/node-api', '@duckdb/node-bindings'] : [],
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir: string, outputDir: string) => assetCommands(outputDir, { duckdb: p.duckdb ?? false, ...(p.jobsDir ? { jobsDir: p.jobsDir } : {}) }),
      },
    },
    ...p.extra,
  });
}
