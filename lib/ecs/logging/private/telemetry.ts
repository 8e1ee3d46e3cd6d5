import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TELEMETRY_INTERVAL_SECONDS, TELEMETRY_NAMESPACE } from './constants';
import { TelemetryEvent } from './fluentd-config';
import { pascalCase } from '../../../private/naming';

/**
 * fluentd's telemetry lines (JSON on stdout, see telemetryBlocks in fluentd-config.ts) become
 * CloudWatch metrics through metric filters on the diagnostics log group: no extra container, no
 * image to build, and the monitor_agent, grep and record_transformer plugins are in fluentd's core.
 * Every metric has the dimensions Fleet (one forwarder or aggregators construct) and PluginId (one
 * fluentd output, i.e. one log type).
 */
export enum FluentdMetricName {
  BUFFER_QUEUE_LENGTH = 'BufferQueueLength',
  BUFFER_TOTAL_QUEUED_SIZE = 'BufferTotalQueuedSize',
  RETRY_COUNT = 'RetryCount',
  SECONDARY_FILE_WRITES = 'SecondaryFileWrites',
  BUFFER_OVERFLOWS = 'BufferOverflows',
}

interface FilterSpec {
  readonly id: string;
  readonly metricName: FluentdMetricName;
  /** Conditions besides the fleet. */
  readonly pattern: logs.JsonPattern;
  readonly value: string;
  readonly unit: cloudwatch.Unit;
}

const hasBuffer = logs.FilterPattern.numberValue('$.buffer_queue_length', '>=', 0);

const FILTERS: FilterSpec[] = [
  { id: 'BufferQueueLength', metricName: FluentdMetricName.BUFFER_QUEUE_LENGTH, pattern: hasBuffer, value: '$.buffer_queue_length', unit: cloudwatch.Unit.COUNT },
  {
    id: 'BufferTotalQueuedSize', metricName: FluentdMetricName.BUFFER_TOTAL_QUEUED_SIZE,
    pattern: logs.FilterPattern.numberValue('$.buffer_total_queued_size', '>=', 0), value: '$.buffer_total_queued_size', unit: cloudwatch.Unit.BYTES,
  },
  // retry_count is fluentd's num_errors: cumulative since the process started.
  {
    id: 'RetryCount', metricName: FluentdMetricName.RETRY_COUNT,
    pattern: logs.FilterPattern.all(hasBuffer, logs.FilterPattern.numberValue('$.retry_count', '>=', 0)), value: '$.retry_count', unit: cloudwatch.Unit.COUNT,
  },
  {
    id: 'SecondaryFileWrites', metricName: FluentdMetricName.SECONDARY_FILE_WRITES,
    pattern: logs.FilterPattern.stringValue('$.event', '=', TelemetryEvent.SECONDARY_WRITE), value: '1', unit: cloudwatch.Unit.COUNT,
  },
  {
    id: 'BufferOverflows', metricName: FluentdMetricName.BUFFER_OVERFLOWS,
    pattern: logs.FilterPattern.stringValue('$.event', '=', TelemetryEvent.BUFFER_OVERFLOW), value: '1', unit: cloudwatch.Unit.COUNT,
  },
];

/** The metric filters of one fleet, in a child `Telemetry` of scope. */
export function addTelemetryFilters(scope: Construct, logGroup: logs.ILogGroup, fleet: string): void {
  const telemetry = new Construct(scope, 'Telemetry');
  for (const spec of FILTERS) {
    new logs.MetricFilter(telemetry, `${spec.id}Filter`, {
      logGroup,
      filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.fleet', '=', fleet), spec.pattern),
      metricNamespace: TELEMETRY_NAMESPACE,
      metricName: spec.metricName,
      metricValue: spec.value,
      dimensions: { Fleet: '$.fleet', PluginId: '$.plugin_id' },
      unit: spec.unit,
    });
  }
}

/** One fluentd metric of one output of one fleet. */
export function fluentdMetric(fleet: string, pluginId: string, metricName: FluentdMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  const counts = metricName === FluentdMetricName.SECONDARY_FILE_WRITES || metricName === FluentdMetricName.BUFFER_OVERFLOWS;
  return new cloudwatch.Metric({
    namespace: TELEMETRY_NAMESPACE,
    metricName,
    dimensionsMap: { Fleet: fleet, PluginId: pluginId },
    statistic: counts ? cloudwatch.Stats.SUM : cloudwatch.Stats.MAXIMUM,
    period: Duration.seconds(TELEMETRY_INTERVAL_SECONDS),
    ...props,
  });
}

export interface RouteAlarmOptions {
  readonly fleet: string;
  readonly pluginId: string;
  /** Words for the alarm description, e.g. 'the forwarders\' "rails" output'. */
  readonly what: string;
  readonly totalLimitMiB: number;
}

/**
 * The default alarms of one output: its buffer holds a quarter of its disk budget for five
 * minutes (a stuck destination, well before the buffer is full), and any chunk written to
 * secondary_file or any record refused by a full buffer.
 */
export function addRouteAlarms(scope: Construct, options: RouteAlarmOptions): cloudwatch.Alarm[] {
  const id = pascalCase(options.pluginId);
  const thresholdBytes = options.totalLimitMiB * 1024 * 1024 / 4;
  const filling = new cloudwatch.Alarm(scope, `${id}BufferFilling`, {
    metric: fluentdMetric(options.fleet, options.pluginId, FluentdMetricName.BUFFER_TOTAL_QUEUED_SIZE),
    threshold: thresholdBytes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `The file buffer of ${options.what} has held more than a quarter of its ${options.totalLimitMiB} MiB on some host for 5 minutes: its destination is not taking logs. When the buffer is full, new records of this log type are refused (forwarder) or held back (aggregator).`,
  });
  const diverted = new cloudwatch.Alarm(scope, `${id}ChunksDiverted`, {
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(secondary, 0) + FILL(overflow, 0)',
      usingMetrics: {
        secondary: fluentdMetric(options.fleet, options.pluginId, FluentdMetricName.SECONDARY_FILE_WRITES, { period: Duration.minutes(5) }),
        overflow: fluentdMetric(options.fleet, options.pluginId, FluentdMetricName.BUFFER_OVERFLOWS, { period: Duration.minutes(5) }),
      },
      period: Duration.minutes(5),
      label: 'secondary_file writes + buffer overflows',
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${options.what} wrote a chunk to secondary_file on a host (an unrecoverable error; see the diagnostics log group) or refused records because its buffer was full.`,
  });
  return [filling, diverted];
}
