// A chaos container of the ingest function (bundled by ../bundles.ts): the shim first, so its clock is in
// place before the handler's modules are evaluated.
import { plantWallClockToken, serve } from '../child.js';
import { ClickHouseWarehouse } from '../../../functions/adapters/warehouse/clickhouse.js';
import { handler } from '../../../functions/ingest/handler.js';

plantWallClockToken(ClickHouseWarehouse);
serve((e) => handler(e as never));
