// The alarm thresholds of an environment (cdk.json `alarms.*`): their defaults and bounds, shared by the
// CDK app (infra/config.ts → infra/monitoring.ts) and `tributary status`, so a local verdict and a
// deployed alarm read the same numbers. No CDK import here: the CLI loads this file.

export interface AlarmSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const ALARM_SETTINGS = {
  /** a table's newest rows older than this when stored (minutes) */
  freshnessMinutes: { default: 15, min: 1, max: 1440 },
  /** more than this percentage of records quarantined */
  quarantinePercent: { default: 5, min: 1, max: 100 },
  /** consumer lag above this many records */
  offsetLag: { default: 100_000, min: 1, max: 1_000_000_000 },
} as const satisfies Record<string, AlarmSetting>;

export type AlarmThresholds = { readonly [K in keyof typeof ALARM_SETTINGS]: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An environment's thresholds from cdk.json's `context.environments`, with the defaults infra/config.ts
 * applies; `problems` collects what is invalid (config.ts fails synth on them, status refuses to run).
 */
export function alarmThresholds(alarms: unknown, problems: string[]): AlarmThresholds {
  const raw = isObject(alarms) ? alarms : {};
  const read = (key: keyof typeof ALARM_SETTINGS): number => {
    const s = ALARM_SETTINGS[key];
    const v = raw[key] ?? s.default;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min || v > s.max) {
      problems.push(`alarms.${key} must be an integer from ${s.min} to ${s.max}`);
      return s.default;
    }
    return v;
  };
  return { freshnessMinutes: read('freshnessMinutes'), quarantinePercent: read('quarantinePercent'), offsetLag: read('offsetLag') };
}
