// A chaos container of the materializer (bundled by ../bundles.ts); its deployed timeout is 4 minutes (infra/materialize.ts).
import { serve } from '../child.js';
import { handler } from '../../../functions/materialize/handler.js';

serve((e) => handler(e, { getRemainingTimeInMillis: () => 240_000 } as never));
