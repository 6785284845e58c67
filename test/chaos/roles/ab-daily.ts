// A chaos container of the ab-daily function (bundled by ../bundles.ts).
import { serve } from '../child.js';
import { handler } from '../../../functions/ab-daily/handler.js';

serve((e) => handler(e as never));
