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
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err && (err.name === 'UsageError' || err.name === 'SchemaDefinitionError' || err.name === 'SchemaCompatibilityError' || err.name === 'WindowError' || err.name === 'JobConfigError' || err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')) {
    console.error(`tributary: ${err.message}`);
    process.exitCode = 2;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
