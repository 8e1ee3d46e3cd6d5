// The watchdog's configuration, passed by the construct as WATCHDOG_CONFIG (JSON).

export interface WatchedService {
  readonly cluster: string;
  readonly service: string;
  /** Name of the job-runner container inside the task. */
  readonly container: string;
  /** Parameter Store path holding `max-memory-mib`, `expected-workers` and the watchdog's `signalled` state. */
  readonly parameterPrefix: string;
}

export interface WatchdogConfig {
  readonly services: readonly WatchedService[];
  /** Signal name without the SIG prefix: TSTP (Sidekiq >= 5), USR1 (older Sidekiq). */
  readonly signal: string;
  /**
   * Name of the SSM document that sends one signal to one container of one task; its parameters
   * (`taskArn`, `containerName`, `signal`) are constrained by `allowedPattern`, so the role cannot
   * run anything else on the host.
   */
  readonly signalDocument: string;
  readonly gracePeriodSeconds: number;
  /** At most this share of a service's running tasks is out of service (signalled or stopped by the watchdog) at a time. */
  readonly maxSignalledPercent: number;
  readonly memoryNamespace: string;
  readonly memoryMetricName: string;
}

export const SIGNAL_NAME = /^[A-Z][A-Z0-9]{1,9}$/;
export const CONTAINER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
export const TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/[a-zA-Z0-9_/-]+$/;
const DOCUMENT_NAME = /^[a-zA-Z0-9_.-]{3,128}$/;

/**
 * The limits operators keep in Parameter Store, parsed strictly (`^\d+$`, within these bounds);
 * anything else makes the watchdog leave the service alone. The construct enforces the same bounds.
 */
export const LIMITS = {
  /** A worker with less memory than this cannot be healthy: a smaller limit is a typo (e.g. "9"). */
  maxMemoryMiB: { min: 128, max: 1_048_576 },
  /** At least one worker always stays in service. */
  expectedWorkers: { min: 1, max: 5000 },
} as const;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): WatchdogConfig {
  if (!env.WATCHDOG_CONFIG) throw new Error('WATCHDOG_CONFIG must be set');
  const c = JSON.parse(env.WATCHDOG_CONFIG) as WatchdogConfig;
  const config: WatchdogConfig = {
    services: c.services,
    signal: c.signal ?? 'TSTP',
    signalDocument: c.signalDocument,
    gracePeriodSeconds: Number(c.gracePeriodSeconds ?? 120),
    maxSignalledPercent: Number(c.maxSignalledPercent ?? 25),
    memoryNamespace: c.memoryNamespace ?? 'ECS/ContainerInsights',
    memoryMetricName: c.memoryMetricName ?? 'MemoryUtilized',
  };
  validateConfig(config);
  return config;
}

export function validateConfig(c: WatchdogConfig): void {
  if (!SIGNAL_NAME.test(c.signal)) throw new Error(`signal (${JSON.stringify(c.signal)}) must be a signal name such as TSTP or USR1`);
  if (typeof c.signalDocument !== 'string' || !DOCUMENT_NAME.test(c.signalDocument)) {
    throw new Error(`signalDocument (${JSON.stringify(c.signalDocument)}) must name the watchdog's SSM document`);
  }
  if (!(c.maxSignalledPercent > 0 && c.maxSignalledPercent <= 100)) throw new Error(`maxSignalledPercent (${c.maxSignalledPercent}) must be in (0, 100]`);
  for (const s of c.services) {
    if (!CONTAINER_NAME.test(s.container)) throw new Error(`container (${JSON.stringify(s.container)}) is not a valid container name`);
  }
}
