// A chaos container of the compaction function (bundled by ../bundles.ts); its deployed timeout is 15 minutes (infra/jobs.ts).
import { serve } from '../child.js';
import { handler } from '../../../functions/compact/handler.js';

serve((e) => handler(e as never, { getRemainingTimeInMillis: () => 900_000 } as never));
