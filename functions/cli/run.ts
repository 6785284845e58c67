// The process around `main`: terminal-safe output, quiet end on a closed pipe, one line per failure and
// the exit code. bin/tributary.mjs runs this file, compiled (dist/cli/run.js) or through tsx.
import { inspect } from 'node:util';
import { describeFailure } from './errors.js';
import { main } from './main.js';
import { guardTerminalOutput } from './print.js';

export async function run(argv: string[]): Promise<void> {
  // A reader that stops early (`| head`) closes the pipe: end quietly, as other command-line tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // Whatever a command prints, event data in it never drives the terminal (escape sequences, bidi overrides).
  guardTerminalOutput(process.stdout);
  guardTerminalOutput(process.stderr, { carriageReturn: true }); // a progress bar redraws its line
  process.exitCode = await runMain(argv);
}

/** `main` with its failure said in one line (or a bug's stack) on stderr: the command's exit code. */
export async function runMain(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    const failure = describeFailure(err, process.env['TRIBUTARY_DEBUG'] === '1');
    // A stack without colours: the guard would show a terminal's colour codes as text.
    console.error(failure.withStack ? inspect(err, { colors: false }) : `tributary: ${failure.message}`);
    return failure.exitCode;
  }
}
