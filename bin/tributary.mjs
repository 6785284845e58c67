#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between a clone and a working command.
import { inspect } from 'node:util';
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`| head`) closes the pipe: end quietly, as other command-line tools do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
// Whatever a command prints, event data in it never drives the terminal (escape sequences, bidi overrides).
const { guardTerminalOutput } = await import('../functions/cli/print.ts');
guardTerminalOutput(process.stdout);
guardTerminalOutput(process.stderr, { carriageReturn: true }); // a progress bar redraws its line
const { main } = await import('../functions/cli/main.ts');
const { describeFailure } = await import('../functions/cli/errors.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const failure = describeFailure(err, process.env.TRIBUTARY_DEBUG === '1');
  // A stack without colours: the guard would show a terminal's colour codes as text.
  console.error(failure.withStack ? inspect(err, { colors: false }) : `tributary: ${failure.message}`);
  process.exitCode = failure.exitCode;
}
