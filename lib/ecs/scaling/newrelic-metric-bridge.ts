import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { HandlerFunction } from '../../private/handler-function';
import { acknowledgeWildcards } from '../../private/nag';
import { duplicatesOf, invalidProp, requireIntegerInRange, requireNumberInRange, requireOrdered } from '../../private/validation';
import { NewRelicRegion } from './newrelic-region';
import { notifyAlarmTopic } from './private/alarm-topic';
import { FunctionVpcPlacement } from '../../common/function-placement';

/** One New Relic application mapped to a CloudWatch dimension value. */
export interface NewRelicServiceMapping {
  /** The value of the facet attribute in New Relic (by default the APM `appName`). */
  readonly newRelicName: string;
  /**
   * The CloudWatch dimension value the samples are published under.
   * @default - the same as `newRelicName`
   */
  readonly serviceName?: string;
}

/**
 * A further metric the bridge publishes for every mapped service, fetched in the same NerdGraph
 * request as the others (e.g. Sidekiq queue latency for queue-driven workers).
 */
export interface NewRelicMetric {
  /** CloudWatch metric name, e.g. `'QueueLatency'`. */
  readonly metricName: string;
  /** The NRQL aggregate, e.g. `max(newrelic.sidekiq.queue.latency)`. */
  readonly nrqlSelect: string;
  /**
   * Unit of the published values.
   * @default cloudwatch.Unit.SECONDS
   */
  readonly unit?: cloudwatch.Unit;
  /**
   * Smallest value that can be real; lower values are dropped (missing data), never published.
   * @default 0
   */
  readonly minValue?: number;
  /**
   * Largest value that can be real; higher values are dropped (missing data), never published.
   * @default - 100 for cloudwatch.Unit.PERCENT, otherwise no upper bound
   */
  readonly maxValue?: number;
  /**
   * The NRQL event type to query (`FROM ...`).
   * @default - the bridge's eventType
   */
  readonly eventType?: string;
}

/** Props of {@link NewRelicMetricBridge}. */
export interface NewRelicMetricBridgeProps {
  /**
   * Runs the function of this construct in a VPC (AWS Control Tower control CT.LAMBDA.PR.3).
   *
   * @default - outside a VPC; the control is acknowledged on the function, with the reason
   */
  readonly functionPlacement?: FunctionVpcPlacement;
  /** The New Relic account to query. */
  readonly accountId: number;
  /**
   * A New Relic user API key (`NRAK-...`): the whole secret string, or the `apiKey` field of a JSON secret.
   * Only its ARN reaches the function, which reads the value at run time.
   */
  readonly apiKeySecret: secretsmanager.ISecret;
  /**
   * The NRQL aggregate to publish, evaluated per service, e.g.
   * `average(newrelic.unicorn.busy_workers) / average(newrelic.unicorn.workers) * 100`.
   */
  readonly nrqlSelect: string;
  /** The services to publish; one NRQL query per poll covers all of them (FACET). */
  readonly services: NewRelicServiceMapping[];
  /**
   * The New Relic data center.
   * @default NewRelicRegion.US
   */
  readonly region?: NewRelicRegion;
  /**
   * The NRQL event type to query (`FROM ...`).
   * @default 'Metric'
   */
  readonly eventType?: string;
  /**
   * The attribute that tells the services apart (`FACET ...`).
   * @default 'appName'
   */
  readonly facetAttribute?: string;
  /**
   * CloudWatch namespace of the published metric.
   * @default 'NewRelic'
   */
  readonly metricNamespace?: string;
  /**
   * CloudWatch metric name.
   * @default 'BusyWorkerRatio'
   */
  readonly metricName?: string;
  /**
   * CloudWatch dimension name that carries `serviceName`.
   * @default 'ServiceName'
   */
  readonly dimensionName?: string;
  /**
   * Unit of the published values.
   * @default cloudwatch.Unit.PERCENT
   */
  readonly unit?: cloudwatch.Unit;
  /**
   * Smallest value of `nrqlSelect` that can be real; lower values are dropped one by one and logged
   * (the service's metric stays missing for that minute), never published.
   * @default 0
   */
  readonly minValue?: number;
  /**
   * Largest value of `nrqlSelect` that can be real; higher values are dropped one by one and logged.
   * @default - 100 for cloudwatch.Unit.PERCENT, otherwise no upper bound
   */
  readonly maxValue?: number;
  /**
   * More metrics to publish for every mapped service; all of them travel in the same single NerdGraph
   * request per poll.
   * @default - only the `nrqlSelect` metric
   */
  readonly additionalMetrics?: NewRelicMetric[];
  /**
   * Samples per minute per service: 1 publishes standard-resolution metrics; more (any count that divides 60 seconds evenly, up to 60)
   * queries TIMESERIES buckets and publishes high-resolution metrics.
   * @default 1
   */
  readonly samplesPerMinute?: number;
  /**
   * How long after a minute ends before it is queried, so New Relic has ingested it.
   * @default Duration.minutes(1)
   */
  readonly ingestionDelay?: Duration;
  /**
   * Timeout of one NerdGraph request.
   * @default Duration.seconds(8)
   */
  readonly queryTimeout?: Duration;
  /**
   * NerdGraph attempts per poll (retries on 429, 5xx and timeouts, with backoff).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Topic the errors alarm (failed or missing polls) notifies (Control Tower CT.CLOUDWATCH.PR.1).
   * @default - no action: add yours to `errorsAlarm`
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Lambda's limit on the total size of environment variables. */
const LAMBDA_ENV_LIMIT = 4096;
/** Room kept for the secret ARN (a token at synth time) and the other variables. */
const ENV_OVERHEAD = 400;
const SAFE_NRQL = /^[^'"`\\\n\r]+$/;
const ALLOWED_SAMPLES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

/**
 * New Relic → CloudWatch: a Lambda function polls NerdGraph every minute with ONE request for every
 * metric of every mapped service (one aliased NRQL query per metric, FACET on the service, explicit
 * SINCE/UNTIL of one whole minute) and publishes the values with PutMetricData, so CloudWatch alarms
 * can scale ECS services on them (the talk's unicorn busy workers, a job queue's latency). Each
 * metric declares the range a real value can take (a percentage 0-100, anything else >= 0 by
 * default); values outside it are dropped one by one. On GraphQL errors, empty or malformed results
 * it publishes nothing and the invocation fails ({@link errorsAlarm}): the metric goes missing,
 * which {@link ServiceStepScaling} never treats as a reason to scale in.
 */
export class NewRelicMetricBridge extends Construct {
  /** The polling function. */
  public readonly function: lambda.IFunction;
  /** The function's role. */
  public readonly role: iam.IRole;
  /** The CloudWatch namespace of the published metric. */
  public readonly metricNamespace: string;
  /** The published metric's name. */
  public readonly metricName: string;
  /** The dimension name that carries the service. */
  public readonly dimensionName: string;
  /**
   * In alarm when polls fail (New Relic errors or unreachable, a refused PutMetricData) in 3 of 5
   * minutes, or when the bridge stops running: the scaling alarms then see missing data.
   */
  public readonly errorsAlarm: cloudwatch.Alarm;
  private readonly serviceNames: Set<string>;
  private readonly units = new Map<string, cloudwatch.Unit>();

  constructor(scope: Construct, id: string, props: NewRelicMetricBridgeProps) {
    super(scope, id);
    const region = props.region ?? NewRelicRegion.US;
    const samplesPerMinute = props.samplesPerMinute ?? 1;
    const queryTimeout = props.queryTimeout ?? Duration.seconds(8);
    const maxAttempts = props.maxAttempts ?? 3;
    this.metricNamespace = props.metricNamespace ?? 'NewRelic';
    this.metricName = props.metricName ?? 'BusyWorkerRatio';
    this.dimensionName = props.dimensionName ?? 'ServiceName';
    this.units.set(this.metricName, props.unit ?? cloudwatch.Unit.PERCENT);
    for (const m of props.additionalMetrics ?? []) this.units.set(m.metricName, m.unit ?? cloudwatch.Unit.SECONDS);
    const config = this.validate(props, samplesPerMinute, queryTimeout, maxAttempts);
    this.serviceNames = new Set(props.services.map((s) => s.serviceName ?? s.newRelicName));

    // Attempts run back to back, with at most 4 s of backoff between them, plus a margin.
    const timeout = Duration.seconds(queryTimeout.toSeconds() * maxAttempts + 4 * (maxAttempts - 1) + 10);
    const handler = new HandlerFunction(this, 'Function', {
      placement: props.functionPlacement,
      placementProp: 'functionPlacement',
      handler: 'newrelic-bridge',
      serviceName: 'newrelic-bridge',
      description: `New Relic NerdGraph to CloudWatch bridge (${props.services.length} services, ${region.name})`,
      timeout,
      environment: {
        NEW_RELIC_ENDPOINT: region.endpoint,
        NEW_RELIC_API_KEY_SECRET_ARN: props.apiKeySecret.secretArn,
        BRIDGE_CONFIG: config,
      },
    });
    this.function = handler.function;
    this.role = handler.role;
    // A failed poll is not retried later: a late retry would query a minute that has passed, and
    // would add NerdGraph requests. The next scheduled poll runs a minute later.
    handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    props.apiKeySecret.grantRead(handler.role);
    handler.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': this.metricNamespace } },
    }));
    acknowledgeWildcards(this, [{
      finding: /^Resource::\*$/,
      reason: 'cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the bridge namespace by the cloudwatch:namespace condition.',
    }]);

    new events.Rule(this, 'Schedule', {
      description: 'Polls New Relic once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(handler.function, { retryAttempts: 0 })],
    });

    // Failed polls fail the invocation (the handler throws); a bridge that stops running leaves
    // Invocations missing, which counts as breaching here.
    const errors = new cloudwatch.MathExpression({
      expression: 'IF(FILL(invocations, 0) < 1, 1, FILL(errors, 0))',
      usingMetrics: {
        errors: handler.function.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
        invocations: handler.function.metricInvocations({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      },
      period: Duration.minutes(1),
      label: 'Failed or missing polls',
    });
    this.errorsAlarm = errors.createAlarm(this, 'ErrorsAlarm', {
      alarmDescription: 'New Relic bridge: polls failed or did not run in 3 of the last 5 minutes; the scaling metrics are missing (scale-in is held back)',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    notifyAlarmTopic(this.errorsAlarm, props.alarmTopic, 'failed or missing New Relic polls', 'errorsAlarm');
  }

  /** The published metric of one mapped service (one-minute period, average). */
  public metricForService(serviceName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(this.metricName, serviceName, options);
  }

  /** One of the published metrics (`metricName` or an additional metric's name) of one mapped service (one-minute period, average). */
  public metric(metricName: string, serviceName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    if (!this.serviceNames.has(serviceName)) {
      invalidProp(this, 'serviceName', serviceName, 'is not one of the mapped services', `Use one of ${[...this.serviceNames].sort().join(', ')}, or add it to services.`);
    }
    const unit = this.units.get(metricName);
    if (unit === undefined) {
      invalidProp(this, 'metricName', metricName, 'is not published by this bridge', `Use one of ${[...this.units.keys()].sort().join(', ')}, or add it to additionalMetrics.`);
    }
    return new cloudwatch.Metric({
      namespace: this.metricNamespace,
      metricName,
      dimensionsMap: { [this.dimensionName]: serviceName },
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.AVERAGE,
      unit,
      ...options,
    });
  }

  /** Checks the props and returns the compact BRIDGE_CONFIG value. */
  private validate(props: NewRelicMetricBridgeProps, samplesPerMinute: number, queryTimeout: Duration, maxAttempts: number): string {
    requireIntegerInRange(this, 'accountId', props.accountId, 1, Number.MAX_SAFE_INTEGER);
    requireIntegerInRange(this, 'maxAttempts', maxAttempts, 1, 5);
    if (!ALLOWED_SAMPLES.includes(samplesPerMinute)) {
      invalidProp(this, 'samplesPerMinute', samplesPerMinute, `must be one of ${ALLOWED_SAMPLES.join(', ')}`, 'Pick a count that divides a minute into whole seconds.');
    }
    const timeoutSeconds = queryTimeout.toSeconds();
    if (timeoutSeconds < 1 || timeoutSeconds * maxAttempts > 50) {
      invalidProp(this, 'queryTimeout', `${timeoutSeconds} seconds x ${maxAttempts} attempts`, 'must be at least 1 second and at most 50 seconds over all attempts',
        'Keep one poll shorter than the one-minute schedule so polls never overlap.');
    }
    const delaySeconds = (props.ingestionDelay ?? Duration.minutes(1)).toSeconds();
    if (delaySeconds % 60 !== 0 || delaySeconds < 60 || delaySeconds > 600) {
      invalidProp(this, 'ingestionDelay', `${delaySeconds} seconds`, 'must be whole minutes from 1 to 10', 'Use Duration.minutes(n).');
    }
    if (props.services.length === 0) invalidProp(this, 'services', [], 'must not be empty', 'Map at least one New Relic application.');
    const names = props.services.map((s) => s.newRelicName);
    const dup = duplicatesOf(names);
    if (dup.length > 0) invalidProp(this, 'services', dup, 'map the same New Relic name more than once', 'List each New Relic application once.');
    const dimensions = duplicatesOf(props.services.map((s) => s.serviceName ?? s.newRelicName));
    if (dimensions.length > 0) invalidProp(this, 'services', dimensions, 'publish two New Relic applications under the same serviceName', 'Give each mapping its own serviceName.');
    for (const [prop, value] of [['eventType', props.eventType], ['facetAttribute', props.facetAttribute], ...names.map((n) => ['services[].newRelicName', n])] as Array<[string, string | undefined]>) {
      if (value !== undefined && !Token.isUnresolved(value) && !SAFE_NRQL.test(value)) {
        invalidProp(this, prop, value, 'contains a quote, backtick, backslash or newline', 'Use the plain name; the bridge quotes names in the NRQL it builds.');
      }
    }
    if (Token.isUnresolved(props.nrqlSelect) || props.nrqlSelect.trim().length === 0 || /\b(SINCE|UNTIL|FACET|TIMESERIES|LIMIT|FROM)\b/i.test(props.nrqlSelect)) {
      invalidProp(this, 'nrqlSelect', props.nrqlSelect, 'must be a plain NRQL aggregate expression', 'Give only what follows SELECT (e.g. "average(x)"); the bridge adds FROM, FACET, SINCE, UNTIL and TIMESERIES.');
    }
    const metrics = [
      { metricName: this.metricName, nrqlSelect: props.nrqlSelect, unit: this.units.get(this.metricName)!, minValue: props.minValue, maxValue: props.maxValue, at: '' },
      ...(props.additionalMetrics ?? []).map((m, i) => ({ ...m, unit: this.units.get(m.metricName) ?? m.unit ?? cloudwatch.Unit.SECONDS, at: `additionalMetrics[${i}].` })),
    ];
    const dupMetrics = duplicatesOf(metrics.map((m) => m.metricName));
    if (dupMetrics.length > 0) invalidProp(this, 'additionalMetrics', dupMetrics, 'publish the same metricName more than once', 'Give each metric its own metricName.');
    const specs = metrics.map((m) => {
      if (m.at !== '') {
        if (!Token.isUnresolved(m.metricName) && !/^[A-Za-z0-9_.\-/#:]{1,255}$/.test(m.metricName)) invalidProp(this, `${m.at}metricName`, m.metricName, 'is not a CloudWatch metric name', 'Use letters, digits and . _ - / # :');
        if (Token.isUnresolved(m.nrqlSelect) || m.nrqlSelect.trim().length === 0 || /\b(SINCE|UNTIL|FACET|TIMESERIES|LIMIT|FROM)\b/i.test(m.nrqlSelect)) {
          invalidProp(this, `${m.at}nrqlSelect`, m.nrqlSelect, 'must be a plain NRQL aggregate expression', 'Give only what follows SELECT (e.g. "max(x)").');
        }
        if (m.eventType !== undefined && !Token.isUnresolved(m.eventType) && !SAFE_NRQL.test(m.eventType)) {
          invalidProp(this, `${m.at}eventType`, m.eventType, 'contains a quote, backtick, backslash or newline', 'Use the plain event type name.');
        }
      }
      const min = m.minValue ?? 0;
      const max = m.maxValue ?? (m.unit === cloudwatch.Unit.PERCENT ? 100 : undefined);
      requireNumberInRange(this, `${m.at}minValue`, m.minValue, -1e100, 1e100);
      requireNumberInRange(this, `${m.at}maxValue`, m.maxValue, -1e100, 1e100);
      if (max !== undefined) requireOrdered(this, `${m.at}minValue`, min, `${m.at}maxValue`, max);
      if (max !== undefined && max === min) invalidProp(this, `${m.at}maxValue`, max, `must be above minValue (${min})`, 'Give the range a real value can take.');
      return { metricName: m.metricName, select: m.nrqlSelect.trim(), unit: m.unit, min, ...(max !== undefined ? { max } : {}), ...('eventType' in m && m.eventType ? { from: m.eventType } : {}) };
    });
    const config = JSON.stringify({
      accountId: props.accountId,
      from: props.eventType ?? 'Metric',
      facetAttribute: props.facetAttribute ?? 'appName',
      services: props.services.map((s) => (s.serviceName === undefined || s.serviceName === s.newRelicName ? s.newRelicName : [s.newRelicName, s.serviceName])),
      metrics: specs,
      namespace: this.metricNamespace,
      dimensionName: this.dimensionName,
      samplesPerMinute,
      delaySeconds,
      attemptTimeoutMs: timeoutSeconds * 1000,
      maxAttempts,
    });
    const bytes = Buffer.byteLength(config) + ENV_OVERHEAD;
    if (bytes > LAMBDA_ENV_LIMIT) {
      invalidProp(this, 'services', `${props.services.length} services`, `need about ${bytes} bytes of Lambda environment; Lambda allows ${LAMBDA_ENV_LIMIT}`,
        'Split the services across several bridges (each still polls with one query), or shorten the names.');
    }
    return config;
  }
}
