// One dashboard and the alarms a platform team pages on: freshness, quarantine rate, errors, consumer lag
// and failed jobs, all to one SNS topic.
import { Duration } from 'aws-cdk-lib';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, TextWidget, TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { INGEST_SERVICES } from '../functions/adapters/telemetry.js';

/** An ingest path as monitoring sees it: its function and the consumer group of each topic's mapping. */
export interface MonitoredIngestPath {
  readonly name: 'coupled' | 'fresh' | 'lake';
  readonly fn: IFunction;
  readonly mappings: ReadonlyArray<{ readonly topic: string; readonly consumerGroup: string }>;
}

export interface MonitoringProps {
  readonly envName: string;
  /** one path (coupled) or two (split: fresh and lake), each alarmed on its own */
  readonly ingest: readonly MonitoredIngestPath[];
  /** the MSK cluster's name: MSK publishes consumer lag per (cluster, consumer group, topic) */
  readonly clusterName: string;
  readonly compaction: IFunction;
  readonly abDaily: IFunction;
  /** the SQL jobs of schemas/jobs/, when there are any */
  readonly sqlJobs?: IFunction;
  readonly emails: readonly string[];
  /** alarm when the freshest table lags more than this (minutes) */
  readonly freshnessMinutes: number;
  /** alarm when more than this percentage of records is quarantined */
  readonly quarantinePercent: number;
  /** where operators look at quarantined records in ClickHouse, e.g. tributary_ops._quarantine */
  readonly quarantineTable: string;
  /** alarm when the ESM's consumer lag stays above this many records */
  readonly offsetLag: number;
  /** with spool writes: the materializer, alarmed when the spool's backlog grows older than `spoolAgeSeconds` */
  readonly materializer?: IFunction;
  readonly spoolAgeSeconds?: number;
}

const NAMESPACE = 'Tributary';

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, p: MonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', { displayName: `Tributary ${p.envName} alarms`, enforceSSL: true });
    for (const email of p.emails) this.topic.addSubscription(new EmailSubscription(email));
    // Each path publishes under its own service; records are counted on one path (the lake's in split, which
    // sees the same records as the fresh one), so no figure is counted twice.
    const recordsService = INGEST_SERVICES[p.ingest.some((x) => x.name === 'lake') ? 'lake' : p.ingest[0]?.name ?? 'coupled'];
    const ingest = (name: string, statistic = 'Sum'): Metric =>
      new Metric({ namespace: NAMESPACE, metricName: name, dimensionsMap: { service: recordsService }, statistic, period: Duration.minutes(5) });
    const perTable = (name: string, stat: string): MathExpression => new MathExpression({
      expression: `SELECT ${stat}(${name}) FROM SCHEMA(${NAMESPACE}, service, "table") GROUP BY "table"`,
      label: name, period: Duration.minutes(5),
    });
    if (p.ingest.length === 0) throw new Error('Monitoring: at least one ingest path');
    const coupled = p.ingest.length === 1 && p.ingest[0]!.name === 'coupled';
    // Lambda's OffsetLag is per function: in split, each path's function has that path's consumer groups.
    const offsetLag = (fn: IFunction, label?: string): Metric => new Metric({
      namespace: 'AWS/Lambda', metricName: 'OffsetLag', dimensionsMap: { FunctionName: fn.functionName }, statistic: 'Maximum', period: Duration.minutes(5), ...(label ? { label } : {}),
    });
    // MSK's own lag per consumer group and topic: which path, and which topic of it, is behind.
    const groupLag = (topic: string, consumerGroup: string): Metric => new Metric({
      namespace: 'AWS/Kafka', metricName: 'SumOffsetLag', dimensionsMap: { 'Cluster Name': p.clusterName, 'Consumer Group': consumerGroup, Topic: topic },
      statistic: 'Maximum', period: Duration.minutes(5), label: consumerGroup,
    });
    const label = (path: MonitoredIngestPath, what: string): string => `${path.name} ${what}`;
    const quarantineRate = new MathExpression({
      expression: '100 * quarantined / IF(records > 0, records, 1)',
      usingMetrics: { quarantined: ingest('RecordsQuarantined'), records: ingest('RecordsIn') },
      label: 'quarantined %', period: Duration.minutes(5),
    });
    const freshnessMax = new MathExpression({
      expression: `SELECT MAX(FreshnessMax) FROM SCHEMA(${NAMESPACE}, service, "table")`,
      label: 'worst freshness (ms)', period: Duration.minutes(5),
    });
    const jobFailures = (service: string, name: string): Metric =>
      new Metric({ namespace: NAMESPACE, metricName: name, dimensionsMap: { service }, statistic: 'Sum', period: Duration.hours(1) });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `tributary-${p.envName}` });
    const ingestWidgets = coupled
      ? [
        new GraphWidget({ title: 'ESM OffsetLag', left: [offsetLag(p.ingest[0]!.fn)], width: 8 }),
        new GraphWidget({ title: 'Ingest errors, throttles', left: [p.ingest[0]!.fn.metricErrors(), p.ingest[0]!.fn.metricThrottles()], width: 8 }),
        new GraphWidget({ title: 'Ingest duration (p50, max)', left: [p.ingest[0]!.fn.metricDuration({ statistic: 'p50' }), p.ingest[0]!.fn.metricDuration({ statistic: 'Maximum' })], width: 8 }),
      ]
      : [
        new GraphWidget({ title: `ESM OffsetLag per path (${p.ingest.map((x) => x.name).join(', ')})`, left: p.ingest.map((x) => offsetLag(x.fn, x.name)), width: 12 }),
        new GraphWidget({ title: 'Consumer lag per group (MSK SumOffsetLag)', left: p.ingest.flatMap((x) => x.mappings.map((m) => groupLag(m.topic, m.consumerGroup))), width: 12 }),
        new GraphWidget({ title: 'Ingest errors, throttles per path', left: p.ingest.flatMap((x) => [x.fn.metricErrors({ label: label(x, 'errors') }), x.fn.metricThrottles({ label: label(x, 'throttles') })]), width: 12 }),
        new GraphWidget({ title: 'Ingest duration per path (p50, max)', left: p.ingest.flatMap((x) => [x.fn.metricDuration({ statistic: 'p50', label: label(x, 'p50') }), x.fn.metricDuration({ statistic: 'Maximum', label: label(x, 'max') })]), width: 12 }),
      ];
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# Tributary ${p.envName}\nIngest, freshness, consumer lag, compaction and A/B jobs.`, width: 24, height: 2 }),
      new GraphWidget({ title: 'Records in / stored / quarantined', left: [ingest('RecordsIn'), ingest('RecordsStored'), ingest('RecordsQuarantined')], width: 12 }),
      new GraphWidget({ title: 'Freshness p50 and max per table (ms)', left: [perTable('FreshnessP50', 'AVG'), perTable('FreshnessMax', 'MAX')], width: 12 }),
      ...ingestWidgets,
      new GraphWidget({ title: 'Compaction', left: [jobFailures('tributary-compact', 'PartitionsCompacted'), jobFailures('tributary-compact', 'DuplicatesRemoved')], right: [p.compaction.metricErrors()], width: 12 }),
      new GraphWidget({ title: 'ab-daily', left: [jobFailures('tributary-ab-daily', 'FinalWindows'), jobFailures('tributary-ab-daily', 'ProvisionalWindows')], right: [p.abDaily.metricErrors()], width: 12 }),
    );

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string, periods = 3): void => {
      const a = new Alarm(this, alarmId, {
        metric, threshold, evaluationPeriods: periods, datapointsToAlarm: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING, alarmDescription: description,
      });
      a.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(a);
    };
    alarm('Freshness', freshnessMax, p.freshnessMinutes * 60_000, `A table's newest rows are more than ${p.freshnessMinutes} min old when stored`);
    alarm('QuarantineRate', quarantineRate, p.quarantinePercent, `More than ${p.quarantinePercent}% of records quarantined (see ${p.quarantineTable})`);
    // One errors alarm and one lag alarm per path, at the same thresholds: coupled keeps the ids it had.
    for (const x of p.ingest) {
      const prefix = coupled ? '' : `${x.name[0]!.toUpperCase()}${x.name.slice(1)}`;
      const which = coupled ? '' : ` on the ${x.name} path (${x.name === 'fresh' ? 'ClickHouse' : 'S3 and Glue'})`;
      alarm(`${prefix}IngestErrors`, x.fn.metricErrors({ period: Duration.minutes(5) }), 0, `Ingest invocations failing${which}: the ESM is retrying batches`, 2);
      alarm(`${prefix}OffsetLag`, offsetLag(x.fn), p.offsetLag, `Consumer lag above ${p.offsetLag} records and not shrinking${which}`, 6);
    }
    if (p.materializer) {
      const spool = (name: string, statistic: string): Metric => new Metric({ namespace: NAMESPACE, metricName: name, dimensionsMap: { service: 'tributary-materialize' }, statistic, period: Duration.minutes(5) });
      const ageLimit = p.spoolAgeSeconds ?? 300;
      this.dashboard.addWidgets(new GraphWidget({
        title: 'Spool: backlog age (s) and objects pending', left: [spool('SpoolBacklogAge', 'Maximum')], right: [spool('SpoolObjectsPending', 'Maximum'), p.materializer.metricErrors()], width: 24,
      }));
      // Missing datapoints mean the materializer stopped running: breaching, unlike the alarms above.
      const a = new Alarm(this, 'SpoolBacklogAge', {
        metric: spool('SpoolBacklogAge', 'Maximum'), threshold: ageLimit, evaluationPeriods: 2, datapointsToAlarm: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingData: TreatMissingData.BREACHING,
        alarmDescription: `The lake spool's oldest batch waited more than ${ageLimit} s for the materializer (or the materializer is not running): the lake is falling behind`,
      });
      a.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(a);
      alarm('MaterializeFailures', p.materializer.metricErrors({ period: Duration.minutes(15) }), 0, 'The spool materializer failed twice in a row (the next run finishes its manifest)', 2);
    }
    alarm('CompactionFailures', p.compaction.metricErrors({ period: Duration.hours(1) }), 0, 'Compaction failed (the next run resumes it)', 2);
    alarm('AbDailyFailures', p.abDaily.metricErrors({ period: Duration.hours(1) }), 0, 'ab-daily failed (the next run retries the day)', 2);
    // A run fails when any of its jobs failed (the others' windows are done); the log names the job and window.
    if (p.sqlJobs) alarm('SqlJobFailures', p.sqlJobs.metricErrors({ period: Duration.hours(1) }), 0, 'A SQL job of schemas/jobs failed (the next scheduled run retries its windows; its log names the job)', 1);
  }
}
