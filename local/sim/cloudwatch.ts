/**
 * Simulated CloudWatch: PutMetricData, as the expiry check calls it. Enforces what the real API
 * refuses and a caller could get wrong: a namespace under `AWS/` or empty, no metric data or more
 * than 1,000 items, a metric without a name, a value that is not a finite number, more than 30
 * dimensions or a dimension without a name or value. Data points are kept for the rehearsal.
 */
import type { PutMetricDataCommandInput, PutMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';

/** One data point received. */
export interface SimMetricDatum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit?: string;
  /** Simulated epoch ms (the datum's Timestamp when given). */
  readonly at: number;
}

/** The operations of cloudwatch the simulator answers (the SDK command names without `Command`). */
export const CLOUDWATCH_OPERATIONS = ['PutMetricData'] as const;

export class SimCloudWatch {
  readonly data: SimMetricDatum[] = [];

  constructor(private readonly clock: SimClock) {}

  /** The data points of one metric, oldest first. */
  datapoints(namespace: string, metricName: string, dimensions: Readonly<Record<string, string>> = {}): SimMetricDatum[] {
    return this.data.filter(
      (d) =>
        d.namespace === namespace &&
        d.metricName === metricName &&
        Object.entries(dimensions).every(([k, v]) => d.dimensions[k] === v) &&
        Object.keys(d.dimensions).length === Object.keys(dimensions).length,
    );
  }

  /** The SDK operations, by name (exactly CLOUDWATCH_OPERATIONS). */
  readonly operations = {
    PutMetricData: (input: PutMetricDataCommandInput): Out<PutMetricDataCommandOutput> => {
      const ns = input.Namespace ?? '';
      if (ns.length === 0 || ns.length > 255)
        throw awsError('InvalidParameterValue', 'The parameter Namespace must be 1 to 255 characters');
      if (ns.startsWith('AWS/')) throw awsError('InvalidParameterValue', 'The value AWS/ for parameter Namespace is invalid.');
      const items = input.MetricData ?? [];
      if (items.length === 0) throw awsError('MissingParameter', 'The parameter MetricData is required.');
      if (items.length > 1000) throw awsError('InvalidParameterValue', 'The collection MetricData must not have a size greater than 1000.');
      const accepted = items.map((m, i) => {
        const at = `MetricData.member.${i + 1}`;
        if (!m.MetricName) throw awsError('MissingParameter', `The parameter ${at}.MetricName is required.`);
        const dims = m.Dimensions ?? [];
        if (dims.length > 30)
          throw awsError('InvalidParameterValue', `The collection ${at}.Dimensions must not have a size greater than 30.`);
        for (const [j, d] of dims.entries()) {
          if (!d.Name || !d.Value) throw awsError('InvalidParameterValue', `${at}.Dimensions.member.${j + 1} needs a Name and a Value.`);
        }
        const value = m.Value ?? m.Values?.[0];
        if (value === undefined || !Number.isFinite(value)) {
          throw awsError('InvalidParameterValue', `The value ${String(value)} for parameter ${at}.Value is invalid.`);
        }
        return {
          namespace: ns,
          metricName: m.MetricName,
          dimensions: Object.fromEntries(dims.map((d) => [d.Name as string, d.Value as string])),
          value,
          ...(m.Unit ? { unit: m.Unit } : {}),
          at: m.Timestamp ? new Date(m.Timestamp).getTime() : this.clock.nowMs(),
        };
      });
      this.data.push(...accepted);
      return {};
    },
  } satisfies OperationsOf<typeof CLOUDWATCH_OPERATIONS>;
}

/** cloudwatch in the registry (registry.ts). */
export const cloudwatchService = defineService({
  prefix: 'cloudwatch',
  property: 'cloudwatch',
  operations: CLOUDWATCH_OPERATIONS,
  client: cloudwatchSdk.CloudWatchClient,
  sdk: { exports: cloudwatchSdk, baseException: 'CloudWatchServiceException' },
  throttlingCode: 'Throttling',
  // Published: PutMetricData 500 transactions per second (most regions).
  defaultRates: { 'cloudwatch:*': 500 },
  create: (ctx) => new SimCloudWatch(ctx.clock),
});
