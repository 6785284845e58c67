// The verdict `tributary status` gives a table, and the thresholds it shares with the CDK alarms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overallVerdict, tableVerdict, type TableMeasurements, type Thresholds } from '../../functions/core/status/verdict.js';
import { ALARM_SETTINGS, alarmThresholds } from '../../infra/alarm-defaults.js';
import { parseEnvironment } from '../../infra/config.js';
import { readFileSync } from 'node:fs';
import { groupLagFinding, partitionLags } from '../../functions/core/status/consumer-lag.js';

const T: Thresholds = { freshnessMinutes: 30, quarantinePercent: 10, compactionBacklogHours: 2 };
const MIN = 60_000;
const healthy: TableMeasurements = {
  table: 'page_view', freshnessMs: 5 * MIN, ingestLagMs: MIN, storedLastHour: 100, storedLastDay: 1000,
  quarantinedLastHour: 0, quarantinedLastDay: 0, hoursAwaitingCompaction: 1,
};

describe('status verdict', () => {
  it('is ok within every threshold', () => {
    assert.deepEqual(tableVerdict(healthy, T), { table: 'page_view', health: 'ok', reasons: [], quarantineRatePercent: 0 });
  });

  it('is critical past the freshness threshold, warn past half of it', () => {
    const late = tableVerdict({ ...healthy, freshnessMs: 31 * MIN }, T);
    assert.equal(late.health, 'critical');
    assert.deepEqual(late.reasons, ['freshness 31 min > 30 min']);
    const halfway = tableVerdict({ ...healthy, freshnessMs: 16 * MIN }, T);
    assert.equal(halfway.health, 'warn');
    assert.deepEqual(halfway.reasons, ['freshness 16 min > half of 30 min']);
    assert.equal(tableVerdict({ ...healthy, ingestLagMs: 3 * 60 * MIN }, T).reasons[0], 'ingest lag 3.0 h > 30 min');
  });

  it('rates quarantine over the last hour against its percentage', () => {
    const v = tableVerdict({ ...healthy, storedLastHour: 80, quarantinedLastHour: 20 }, T);
    assert.equal(v.health, 'critical');
    assert.equal(v.quarantineRatePercent, 20);
    assert.deepEqual(v.reasons, ['quarantine rate 20.0 % > 10 % (last hour)']);
    assert.equal(tableVerdict({ ...healthy, storedLastHour: 94, quarantinedLastHour: 6 }, T).health, 'warn');
    // nothing arrived in the last hour: no rate, no finding from it
    assert.equal(tableVerdict({ ...healthy, storedLastHour: 0 }, T).quarantineRatePercent, undefined);
  });

  it('warns on a compaction backlog and on a table with no rows; worst finding first', () => {
    assert.deepEqual(tableVerdict({ ...healthy, hoursAwaitingCompaction: 3 }, T).reasons, ['3 closed hours waiting for compaction > 2']);
    const { freshnessMs: _f, ingestLagMs: _i, ...empty } = healthy;
    assert.deepEqual(tableVerdict({ ...empty, storedLastHour: 0 }, T), { table: 'page_view', health: 'warn', reasons: ['no rows stored in ClickHouse yet'] });
    const both = tableVerdict({ ...healthy, hoursAwaitingCompaction: 5, freshnessMs: 2 * 24 * 60 * MIN }, T);
    assert.deepEqual(both.reasons, ['freshness 2.0 d > 30 min', '5 closed hours waiting for compaction > 2']);
  });

  it('overall is the worst table, naming the tables that make it so', () => {
    const ok = tableVerdict(healthy, T);
    const bad = tableVerdict({ ...healthy, table: 'click', freshnessMs: 60 * MIN }, T);
    assert.deepEqual(overallVerdict([ok, bad]), { health: 'critical', reason: 'click: freshness 60 min > 30 min' });
    assert.deepEqual(overallVerdict([ok]), { health: 'ok', reason: '1 tables ok' });
    assert.equal(overallVerdict([]).health, 'warn');
  });
});

describe('alarm thresholds shared by CDK and status', () => {
  it('applies the defaults and bounds infra/config.ts applies', () => {
    const problems: string[] = [];
    assert.deepEqual(alarmThresholds(undefined, problems), { freshnessMinutes: 15, quarantinePercent: 5, offsetLag: 100_000 });
    assert.deepEqual(problems, []);
    alarmThresholds({ freshnessMinutes: 0, quarantinePercent: 'x' }, problems);
    assert.deepEqual(problems, ['alarms.freshnessMinutes must be an integer from 1 to 1440', 'alarms.quarantinePercent must be an integer from 1 to 100']);
    assert.equal(ALARM_SETTINGS.freshnessMinutes.default, 15);
  });

  it('reads each cdk.json environment as the CDK app does', () => {
    const envs = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { environments: Record<string, { alarms: unknown }> } }).context.environments;
    for (const [name, block] of Object.entries(envs)) {
      const { emails: _e, ...deployed } = parseEnvironment(name, envs).alarms;
      assert.deepEqual(alarmThresholds(block.alarms, []), deployed, name);
    }
  });
});

describe('consumer lag', () => {
  const marks = [
    { topic: 'tracking', partition: 1, high: 50, low: 10 }, { topic: 'tracking', partition: 0, high: 100, low: 0 },
    { topic: 'other', partition: 0, high: 7, low: 0 },
  ];
  it('is high − committed per partition; all that is held where the group never committed; only its topics', () => {
    const lags = partitionLags('g', [{ topic: 'tracking', partition: 0, offset: 90 }, { topic: 'tracking', partition: 1, offset: -1 }, { topic: 'other', partition: 0, offset: -1 }], marks);
    assert.deepEqual(lags, [
      { group: 'g', topic: 'tracking', partition: 0, committed: 90, high: 100, lag: 10 },
      { group: 'g', topic: 'tracking', partition: 1, committed: null, high: 50, lag: 40 },
    ]);
  });
  it('judges a group on its summed lag against alarms.offsetLag', () => {
    const lags = partitionLags('g', [{ topic: 'tracking', partition: 0, offset: 0 }, { topic: 'tracking', partition: 1, offset: 10 }], marks);
    assert.deepEqual(groupLagFinding('g', lags, 100), { health: 'critical', reason: 'consumer group g lags 140 records > 100' });
    assert.deepEqual(groupLagFinding('g', lags, 200), { health: 'warn', reason: 'consumer group g lags 140 records > half of 200' });
    assert.equal(groupLagFinding('g', lags, 1000), undefined);
    assert.deepEqual(groupLagFinding('g', [], 1000), { health: 'warn', reason: 'consumer group g has committed no offsets' });
  });
  it('counts in the overall verdict', () => {
    const ok = tableVerdict(healthy, T);
    assert.deepEqual(overallVerdict([ok], [{ health: 'critical', reason: 'consumer group g lags 140 records > 100' }]), { health: 'critical', reason: 'consumer group g lags 140 records > 100' });
  });
});
