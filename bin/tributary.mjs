#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between a clone and a working command.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`| head`) closes the pipe: end quietly, as other command-line tools do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../functions/cli/main.ts');
const { describeFailure } = await import('../functions/cli/errors.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const failure = describeFailure(err, process.env.TRIBUTARY_DEBUG === '1');
  console.error(failure.withStack ? err : `tributary: ${failure.message}`);
  process.exitCode = failure.exitCode;
}
