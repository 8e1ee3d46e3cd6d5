import { Logger } from '@aws-lambda-powertools/logger';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface CapturedLogger {
  readonly logger: Logger;
  /** Every line the logger printed, parsed from its JSON output. */
  lines(): LogLine[];
  /** Messages (plus `reason` when present) of the lines at WARN or above, joined for `toMatch`. */
  problems(): string;
  restore(): void;
}

/**
 * A real Powertools Logger whose output is captured: with POWERTOOLS_DEV set it prints through the
 * global console, which the test replaces for the duration.
 */
export function captureLogger(): CapturedLogger {
  const previousDev = process.env.POWERTOOLS_DEV;
  process.env.POWERTOOLS_DEV = 'true';
  const raw: string[] = [];
  const methods = ['log', 'debug', 'info', 'warn', 'error', 'trace'] as const;
  const spies = methods.map((m) => jest.spyOn(console, m).mockImplementation((...args: unknown[]) => { raw.push(String(args[0])); }));
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  const lines = (): LogLine[] => raw.map((r) => JSON.parse(r) as LogLine);
  return {
    logger,
    lines,
    problems: () => lines().filter((l) => ['WARN', 'ERROR', 'CRITICAL'].includes(l.level)).map((l) => `${l.message} ${l.reason ?? ''}`).join('\n'),
    restore() {
      spies.forEach((s) => s.mockRestore());
      if (previousDev === undefined) delete process.env.POWERTOOLS_DEV;
      else process.env.POWERTOOLS_DEV = previousDev;
    },
  };
}
