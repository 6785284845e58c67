// A chaos container of the SQL jobs function (bundled by ../bundles.ts).
import { serve } from '../child.js';
import { handler } from '../../../functions/jobs/handler.js';

serve((e) => handler(e as never));
