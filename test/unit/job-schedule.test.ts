// When scheduled SQL jobs run: one schedule per cadence, and the windows each run computes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobDefinition } from '../../functions/core/jobs/job.js';
import { cadenceSchedule, dueWindows, nextRunAt } from '../../functions/core/jobs/schedule.js';
import { windowLabel } from '../../functions/core/jobs/window.js';

const job = (window: 'hourly' | 'daily', latenessMs: number): JobDefinition => ({
  name: 'j', window, latenessMs, sources: [], orderBy: ['k'], output: { table: 'j', columns: [], partitionKeys: [], description: '' }, compute: async () => [],
});
const at = (iso: string): number => Date.parse(iso);

describe('job schedules', () => {
  it('runs hourly jobs at :05 and daily ones once the longest lateness has passed', () => {
    assert.deepEqual(cadenceSchedule('hourly', [0, 600_000]), { cadence: 'hourly', minute: 5 });
    assert.deepEqual(cadenceSchedule('daily', [30 * 60_000, 10 * 60_000]), { cadence: 'daily', hour: 0, minute: 35 });
    assert.deepEqual(cadenceSchedule('daily', [2 * 3_600_000]), { cadence: 'daily', hour: 2, minute: 5 });
    assert.equal(new Date(nextRunAt({ cadence: 'hourly', minute: 5 }, at('2026-11-19T10:07:00Z'))).toISOString(), '2026-11-19T11:05:00.000Z');
    assert.equal(new Date(nextRunAt({ cadence: 'daily', hour: 0, minute: 35 }, at('2026-11-19T00:20:00Z'))).toISOString(), '2026-11-19T00:35:00.000Z');
  });

  it('an hourly run computes the current hour (provisional) and the hours still open at the previous run', () => {
    const labels = (j: JobDefinition, now: string): string[] => dueWindows(j, at(now)).map(windowLabel);
    assert.deepEqual(labels(job('hourly', 0), '2026-11-19T10:05:00Z'), ['2026-11-19T09', '2026-11-19T10']);
    // 10 minutes of lateness: hour 09 runs provisional at 10:05 and final at 11:05.
    assert.deepEqual(labels(job('hourly', 600_000), '2026-11-19T11:05:00Z'), ['2026-11-19T09', '2026-11-19T10', '2026-11-19T11']);
    assert.deepEqual(labels(job('hourly', 0), '2026-11-20T00:05:00Z'), ['2026-11-19T23', '2026-11-20T00']);
  });

  it('a daily run computes yesterday (final after its lateness) and today (provisional)', () => {
    assert.deepEqual(dueWindows(job('daily', 30 * 60_000), at('2026-11-20T00:35:00Z')).map(windowLabel), ['2026-11-19', '2026-11-20']);
  });
});
