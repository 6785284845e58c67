#!/usr/bin/env node
// Runs the CLI: its compiled JavaScript (dist/cli, built by `npm ci` through the `prepare` script) while no
// source under functions/ is newer than that build, else the TypeScript sources through tsx, so an edited
// .ts file is never run stale. TRIBUTARY_CLI_SOURCES=1 always runs the sources.
import { fileURLToPath } from 'node:url';
import { isBuildFresh } from './cli-build.mjs';

// Stacks of bugs (and of every error with TRIBUTARY_DEBUG=1) point into the sources, not the bundle.
if (process.env.TRIBUTARY_DEBUG === '1') process.setSourceMapsEnabled(true);
const root = fileURLToPath(new URL('..', import.meta.url));
let run;
if (process.env.TRIBUTARY_CLI_SOURCES !== '1' && isBuildFresh(root)) {
  ({ run } = await import('../dist/cli/run.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import('../functions/cli/run.ts'));
}
await run(process.argv.slice(2));
