// The input alone: each MSK event read and parsed as the Lambda runtime parses its invocation payload,
// handed to a handler that does nothing. Its peak RSS is the floor under the handler's at that batch size.
import { args, report } from './common.js';
import { runBatches } from './run-batches.js';

const { arg, file } = args();
report({ name: `input:${arg}`, ...(await runBatches(file, async () => ({ files: [] }))) });
