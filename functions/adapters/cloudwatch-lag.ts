// Consumer lag as CloudWatch holds it for a deployment (read by `tributary status` against AWS):
// - AWS/Lambda OffsetLag per function: the event source mapping's metric, the one the OffsetLag alarms watch
//   (infra/monitoring.ts; one function per ingest path);
// - AWS/Kafka OffsetLag per consumer group, topic and partition: MSK's consumer-lag metrics, which say which
//   partition of which group is behind (the cluster's enhanced monitoring must be PER_TOPIC_PER_PARTITION).
// The latest value of each series within the window; a series with no value in it is left out.
import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type Metric, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricLag } from '../core/status/consumer-lag.js';

export interface FunctionLag {
  readonly functionName: string;
  readonly lag: number;
}

export interface OffsetLagReading {
  readonly partitions: readonly MetricLag[];
  readonly functions: readonly FunctionLag[];
}

export interface OffsetLagOptions {
  /** the MSK cluster's name (the `Cluster Name` dimension) */
  readonly clusterName: string;
  /** only these consumer groups (default: every group CloudWatch has for the cluster) */
  readonly groups?: readonly string[];
  /** only these functions (default: every function with an OffsetLag metric) */
  readonly functionNames?: readonly string[];
  readonly now: number;
  /** how far back a value counts (default 15 minutes: the metrics come every minute) */
  readonly windowMs?: number;
}

async function listMetrics(cw: CloudWatchClient, namespace: string, dimensions: Array<{ Name: string; Value: string }>): Promise<Metric[]> {
  const out: Metric[] = [];
  let token: string | undefined;
  do {
    const page = await cw.send(new ListMetricsCommand({ Namespace: namespace, MetricName: 'OffsetLag', Dimensions: dimensions, ...(token ? { NextToken: token } : {}) }));
    out.push(...(page.Metrics ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/** The latest Maximum of each metric in the window, by index. */
async function latest(cw: CloudWatchClient, metrics: readonly Metric[], start: Date, end: Date): Promise<Map<number, number>> {
  const values = new Map<number, number>();
  for (let from = 0; from < metrics.length; from += 500) { // GetMetricData takes 500 queries at most
    const queries: MetricDataQuery[] = metrics.slice(from, from + 500).map((m, i) => ({ Id: `m${from + i}`, MetricStat: { Metric: m, Period: 60, Stat: 'Maximum' }, ReturnData: true }));
    let token: string | undefined;
    do {
      const page = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampDescending', ...(token ? { NextToken: token } : {}) }));
      for (const r of page.MetricDataResults ?? []) {
        const i = Number(r.Id?.slice(1));
        const v = r.Values?.[0];
        if (Number.isInteger(i) && v !== undefined && !values.has(i)) values.set(i, v);
      }
      token = page.NextToken;
    } while (token);
  }
  return values;
}

const dimension = (m: Metric, name: string): string | undefined => m.Dimensions?.find((d) => d.Name === name)?.Value;

export async function readOffsetLag(cw: CloudWatchClient, o: OffsetLagOptions): Promise<OffsetLagReading> {
  const end = new Date(o.now);
  const start = new Date(o.now - (o.windowMs ?? 15 * 60_000));
  const kafka = (await listMetrics(cw, 'AWS/Kafka', [{ Name: 'Cluster Name', Value: o.clusterName }])).filter((m) => {
    const group = dimension(m, 'Consumer Group');
    return group !== undefined && dimension(m, 'Topic') !== undefined && dimension(m, 'Partition') !== undefined && (o.groups === undefined || o.groups.includes(group));
  });
  const lambda = (await listMetrics(cw, 'AWS/Lambda', [])).filter((m) => {
    const fn = dimension(m, 'FunctionName');
    // the function-wide series: per-version or per-mapping ones carry more dimensions
    return fn !== undefined && m.Dimensions!.length === 1 && (o.functionNames === undefined || o.functionNames.includes(fn));
  });
  const values = await latest(cw, [...kafka, ...lambda], start, end);
  const partitions: MetricLag[] = [];
  kafka.forEach((m, i) => {
    const v = values.get(i);
    if (v !== undefined) partitions.push({ group: dimension(m, 'Consumer Group')!, topic: dimension(m, 'Topic')!, partition: Number(dimension(m, 'Partition')), lag: v });
  });
  const functions: FunctionLag[] = [];
  lambda.forEach((m, i) => {
    const v = values.get(kafka.length + i);
    if (v !== undefined) functions.push({ functionName: dimension(m, 'FunctionName')!, lag: v });
  });
  return { partitions, functions: functions.sort((a, b) => (a.functionName < b.functionName ? -1 : 1)) };
}
